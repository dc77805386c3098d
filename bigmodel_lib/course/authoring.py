"""Write and refresh chapter notebooks.

Chapters are plain notebooks, edited in JupyterLab or written from a script with
`markdown()`, `code()`, `parameters()` and `write_chapter()`. `refresh_outputs()` executes a
chapter in place in a fresh kernel (profile `full` by default) so the committed notebook
carries outputs from a real run, with execution counts in order and tidy progress output.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from textwrap import dedent

# The kernel `bigmodel setup` registers and the package ships (share/jupyter/kernels/bigmodel-course):
# every chapter names it, and the runner executes chapters with it.
KERNELSPEC = {"name": "bigmodel-course", "display_name": "Python (bigmodel-course)", "language": "python"}

# The parameters cell holds literals only, so papermill parses it (`papermill --help-notebook`) and
# injects values without warnings; None means "from the environment". Comments hold no "=": papermill
# would take the line for two assignments. The next cell resolves the values (profiles.default_profile).
PARAMETER_LITERALS = {
    "PROFILE": 'PROFILE = None  # "full" or "smoke"; None: BIGMODEL_PROFILE if set, else "full"',
    "DEVICE": 'DEVICE = None  # "auto" (CUDA, then MPS, then CPU), "cuda", "mps" or "cpu"; None: BIGMODEL_DEVICE if set, else "auto"',
}
RESOLVE_PARAMETERS = (
    "import bigmodel_lib as bml\n\n"
    'PROFILE = bml.default_profile(PROFILE)  # the value above (or papermill\'s) wins over BIGMODEL_PROFILE\n'
    "DEVICE = bml.default_device_name(DEVICE)"
)
NBVAL_COMMENT = re.compile(r"^\s*#\s*(NBVAL_[A-Z_]+)\s*$")

# The glossary lives beside the chapters, so a chapter's link to it resolves in `make lab` (whose
# root is chapters/), on GitHub and on the course site alike; ../docs/ is outside JupyterLab's root.
GLOSSARY_FILE = "glossary.md"


def markdown(text: str):
    import nbformat

    return nbformat.v4.new_markdown_cell(dedent(text).strip("\n"))


def code(text: str, tags: tuple[str, ...] = ()):
    import nbformat

    cell = nbformat.v4.new_code_cell(dedent(text).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def parameters(text: str):
    """The chapter's papermill `parameters` cell."""
    return code(text, tags=("parameters",))


def write_chapter(path: Path | str, cells: list) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata["language_info"] = {"name": "python"}
    path = Path(path)
    nbformat.write(notebook, path)
    return path


def collapse_carriage_returns(text: str) -> str:
    """Keep what a terminal would show: for each line, the text after its last carriage return."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def widget_final_text(notebook, model_id: str) -> str | None:
    """The last state of a tqdm progress widget (an HBox of label, bar, stats) as one line of text.

    A progress bar's text/plain fallback is captured when it starts (0%); the widget state that
    the executed notebook stores holds where it ended.
    """
    import html

    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    box = state.get(model_id)
    if not box or box.get("model_name") != "HBoxModel":
        return None
    parts = []
    for child in box["state"].get("children", []):
        model = state.get(child.removeprefix("IPY_MODEL_"), {})
        if model.get("model_name") == "HTMLModel":
            parts.append(html.unescape(model["state"].get("value", "")).replace("\u2007", " "))
        elif model.get("model_name") == "FloatProgressModel":
            value, total = model["state"].get("value", 0), model["state"].get("max", 0) or 1
            filled = int(round(10 * value / total))
            parts.append("|" + "█" * filled + " " * (10 - filled) + "|")
    return "".join(parts).strip() or None


def link_glossary(markdown_text: str) -> str:
    """`markdown_text` with links to the glossary's old home (../docs/glossary.md) pointing beside the chapter."""
    return re.sub(r"\]\((?:\.\./)?docs/glossary\.md(#[^)]*)?\)", rf"]({GLOSSARY_FILE}\1)", markdown_text)


def relink_glossary(notebook) -> None:
    """Point every markdown cell's glossary link at chapters/glossary.md (see GLOSSARY_FILE)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = link_glossary(cell.source)


def tidy_outputs(notebook, repo: Path) -> None:
    """Drop progress-bar churn and this machine's paths from the stored outputs."""
    home = str(Path.home())
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        cell.outputs = [o for o in cell.get("outputs", []) if not _is_empty_stream(o)] if cell.get("outputs") else []
        for output in cell.get("outputs", []):
            widget = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if widget:
                final = widget_final_text(notebook, widget["model_id"])
                if final:
                    output["data"]["text/plain"] = final
            if output.get("output_type") == "stream":
                output["text"] = _strip_paths(collapse_carriage_returns(output["text"]), repo, home)
                if output.get("name") == "stderr":
                    output["text"] = drop_startup_noise(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    output["data"][mime] = _strip_paths(value, repo, home)


# Lines TensorFlow's C++ runtime writes to stderr when it starts (before TF_CPP_MIN_LOG_LEVEL applies):
# they say nothing about the lesson, and differ run to run (timestamps, thread ids).
STARTUP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I0000 00:00:\S+ +\d+ port\.cc:\d+\] oneDNN custom operations are on.*)\n?",
    re.M,
)


def drop_startup_noise(text: str) -> str:
    """`text` (a stderr stream) without TensorFlow's start-up lines."""
    return STARTUP_NOISE.sub("", text)


def _is_empty_stream(output) -> bool:
    if output.get("output_type") != "stream":
        return False
    text = output.get("text", "")
    return not drop_startup_noise("".join(text) if isinstance(text, list) else text).strip()


def _strip_paths(text: str, repo: Path, home: str) -> str:
    # site-packages first: a virtual environment inside the checkout (.venv/lib/…/site-packages/)
    # would otherwise lose the repository prefix and its slash first and read `.venvsite-packages/`.
    # The pattern also repairs outputs tidied that way before.
    text = re.sub(r"[\w./-]*site-packages/", "site-packages/", text)
    text = text.replace(str(repo) + "/", "").replace(str(repo), ".")
    return text.replace(home, "~")


def tidy_sources(notebook) -> bool:
    """The chapter conventions that live in cell sources and notebook metadata; True if changed."""
    changed = literal_parameters(notebook)
    changed = nbval_markers_as_tags(notebook) or changed
    changed = exercise_headings(notebook) or changed
    if dict(notebook.metadata.get("kernelspec", {})) != KERNELSPEC:
        notebook.metadata["kernelspec"] = dict(KERNELSPEC)
        changed = True
    return changed


# An exercise's heading, in any of the styles chapters were written in: "**Exercise 2 — Title.**",
# "**2 · Title.**", "**2. Title.**", "**Exercise 1.**", "**3 (open) · Title.**" (and "**练习 3（思考题）· …**").
EXERCISE_HEADING = re.compile(
    r"^\*\*(?:(?P<label>Exercise|练习)\s*)?(?P<number>\d+)(?P<open>\s*(?:\(open\)|（思考题）))?"
    r"(?:\s*[—·:：-]\s*|\.\s+|\.(?=\*\*)|(?=\*\*))(?P<title>.*?)\*\*",
    re.M,
)


def exercise_headings(notebook) -> bool:
    """One heading style for every exercise: "**Exercise 2 · Title.**" ("**练习 2 · …**" in Chinese cells).

    Only cells between the "## Exercises" (or "## 练习") heading and the summary are touched. True if changed.
    """
    changed, inside = False, False
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        if re.search(r"^## (Exercises|练习)\s*$", cell.source, re.M):
            inside = True
        elif re.search(r"^## (Summary|小结)", cell.source, re.M):
            inside = False
        if not inside:
            continue
        heading = functools.partial(_exercise_heading, chinese="lang-zh" in cell.metadata.get("tags", []))
        source = EXERCISE_HEADING.sub(heading, cell.source)
        if source != cell.source:
            cell.source, changed = source, True
    return changed


def _exercise_heading(match: re.Match, chinese: bool) -> str:
    label = match["label"] or ("练习" if chinese else "Exercise")
    open_question = ("（思考题）" if label == "练习" else " (open)") if match["open"] else ""
    title = match["title"].strip()
    separator = "· " if open_question.endswith("）") else " · "  # full-width brackets bring their own space
    return f"**{label} {match['number']}{open_question}" + (f"{separator}{title}**" if title else ".**")


def literal_parameters(notebook) -> bool:
    """Make the `parameters` cell literal (PROFILE/DEVICE = None) and resolve them in the next code cell.

    The next cell is where papermill's injected cell has run, so a value set by hand or injected wins,
    and None falls back to BIGMODEL_PROFILE / BIGMODEL_DEVICE (what nbval's smoke runs use).
    """
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    tagged = [i for i, c in enumerate(code_cells) if "parameters" in c.metadata.get("tags", [])]
    if not tagged or tagged[0] + 1 >= len(code_cells):
        return False
    cell, following = code_cells[tagged[0]], code_cells[tagged[0] + 1]
    lines = []
    for line in cell.source.splitlines():
        if line.strip() == "import bigmodel_lib as bml":
            continue
        name = line.split("=", 1)[0].strip() if "=" in line else None
        lines.append(PARAMETER_LITERALS.get(name, line))
    source = "\n".join(lines).strip("\n")
    changed = source != cell.source
    cell.source = source
    if not following.source.startswith(RESOLVE_PARAMETERS):
        following.source = f"{RESOLVE_PARAMETERS}\n\n{following.source}"
        changed = True
    return changed


def nbval_markers_as_tags(notebook) -> bool:
    """Turn `# NBVAL_CHECK_OUTPUT`-style comments into the cell tags nbval reads (`nbval-check-output`)."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        markers = [m.group(1) for m in map(NBVAL_COMMENT.match, lines) if m]
        if not markers:
            continue
        cell.source = "\n".join(line for line in lines if not NBVAL_COMMENT.match(line)).strip("\n")
        tags = cell.metadata.setdefault("tags", [])
        tags += [tag for tag in (m.lower().replace("_", "-") for m in markers) if tag not in tags]
        changed = True
    return changed


def tidy_chapter(chapter_path: Path | str) -> Path:
    """Tidy a committed notebook in place (no execution): stored outputs, hosted cells, nbgrader cells."""
    import nbformat

    from ..io import atomic_write_text
    from ..paths import repo_root
    from .grading import mark_exercises
    from .hosted import add_hosted_cells

    path = Path(chapter_path)
    notebook = nbformat.read(path, as_version=4)
    tidy_outputs(notebook, repo_root())
    relink_glossary(notebook)
    tidy_sources(notebook)
    add_hosted_cells(notebook, path.name)
    mark_exercises(notebook, path.name.split("_", 1)[0])
    atomic_write_text(path, nbformat.writes(notebook) + "\n")
    return path


def refresh_outputs(chapter_path: Path | str, profile: str = "full", timeout: int = 3600) -> Path:
    """Execute the notebook in place in a fresh kernel and save it with its outputs."""
    import nbformat
    from nbclient import NotebookClient

    from ..paths import repo_root

    path = Path(chapter_path).resolve()
    notebook = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update(BIGMODEL_PROFILE=profile, TF_CPP_MIN_LOG_LEVEL="3")
    os.environ.setdefault("BIGMODEL_RESULTS_DIR", str(repo_root() / "build" / "results"))
    try:
        NotebookClient(
            notebook, timeout=timeout, kernel_name=KERNELSPEC["name"], resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return _save_tidy(notebook, path)


def adopt_outputs(executed_path: Path | str, chapter_path: Path | str) -> Path:
    """Commit the outputs of a `make course` run (papermill's executed copy) into the chapter.

    Refuses when any cell's source differs from the chapter's (the run was of other code). The
    cell papermill injected (`PROFILE = "full"`, the default) is dropped and the execution counts
    renumbered, so the result reads like a run in place (`course refresh`), without running again.
    """
    import nbformat

    chapter_path = Path(chapter_path)
    chapter = nbformat.read(chapter_path, as_version=4)
    executed = nbformat.read(Path(executed_path), as_version=4)
    cells = [c for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    if [c.source for c in cells] != [c.source for c in chapter.cells]:
        raise ValueError(f"{executed_path} was run from other code than {chapter_path}: run `make course` again.")
    for cell in cells:
        cell.metadata.pop("papermill", None)
    for count, cell in enumerate((c for c in cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = count
    chapter.cells = cells
    if executed.metadata.get("widgets"):  # the final state of the run's progress bars
        chapter.metadata["widgets"] = executed.metadata["widgets"]
    return _save_tidy(chapter, chapter_path)


def _save_tidy(notebook, path: Path) -> Path:
    """Tidy the outputs, name the course kernel, and write the notebook atomically."""
    import nbformat

    from ..io import atomic_write_text
    from ..paths import repo_root

    tidy_outputs(notebook, repo_root())
    notebook.metadata["kernelspec"] = KERNELSPEC
    atomic_write_text(path, nbformat.writes(notebook) + "\n")
    return path

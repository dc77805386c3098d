"""Execute chapters headless with papermill and collect notebooks, HTML and results.

    bigmodel course run --profile full --out build/course

writes `notebooks/<chapter>.ipynb` (executed), `html/<chapter>.html`, `results/<chapter>.json`
(what the chapter recorded) and `index.html` linking them with each chapter's status and
key figures.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from ..io import atomic_write_text
from ..profiles import check_profile
from .authoring import KERNELSPEC
from .chapters import Chapter, select_chapters

KERNEL_NAME = KERNELSPEC["name"]  # the kernel every chapter names
CHAPTER_FILES = {"notebooks": ".ipynb", "html": ".html", "results": ".json"}  # folder: suffix


class RunFolderError(ValueError):
    """The --out folder holds something the run cannot replace (one line, naming the path)."""


class KernelMissingError(ValueError):
    """The Jupyter kernel the chapters name is not registered (one line, with the fix)."""


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Raise KernelMissingError unless Jupyter can find the kernel `name` (before any chapter runs)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelMissingError(
            f"The Jupyter kernel {name!r} that the chapters use is not registered: run `bigmodel setup`."
        ) from None


@dataclass
class ChapterOutcome:
    chapter: str
    title: str
    status: str  # "ok" | "failed"
    seconds: float
    error: str = ""


def run_course(
    profile: str = "full",
    chapters: str | None = None,
    out: Path | str = "build/course",
    cell_timeout: int = 1800,
    html: bool = True,
) -> list[ChapterOutcome]:
    """Run the selected chapters in `profile`; returns one outcome per chapter (never raises for a chapter).

    Raises RunFolderError before running anything when `out` cannot take the run's files.
    """
    from tqdm.auto import tqdm

    check_profile(profile)
    check_kernel()
    selected = select_chapters(chapters)
    out = Path(out).resolve()
    prepare_out(out, selected)
    outcomes = []
    for chapter in tqdm(selected, desc=f"chapters ({profile})", unit="chapter"):
        outcome = run_chapter(chapter, profile, out, cell_timeout)
        if html:
            render_html(out / "notebooks" / f"{chapter.name}.ipynb", out / "html" / f"{chapter.name}.html")
        outcomes.append(outcome)
        tqdm.write(f"{chapter.name}: {outcome.status} in {outcome.seconds:.0f} s")
    atomic_write_text(out / "outcomes.json", json.dumps([asdict(o) for o in outcomes], indent=2))
    from .site import write_index

    write_index(out, outcomes, profile)
    return outcomes


def prepare_out(out: Path, chapters: list[Chapter]) -> None:
    """Create `out`'s folders and check that every file the run writes there can be replaced.

    A folder where a file belongs (or a file where a folder belongs) would otherwise surface
    mid-run as a chapter that "fails in 0 s" or as a crash while writing outcomes.json.
    """
    fix = "remove it or pick another --out"
    folders = [out, *(out / sub for sub in CHAPTER_FILES), out / "results" / "previous"]
    files = [out / "outcomes.json", out / "index.html"]
    files += [out / sub / f"{c.name}{suffix}" for c in chapters for sub, suffix in CHAPTER_FILES.items()]
    files += [out / "results" / "previous" / f"{c.name}.json" for c in chapters]
    for folder in folders:
        if folder.exists() and not folder.is_dir():
            raise RunFolderError(f"{folder} is a file where the course run needs a folder: {fix}.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"Cannot create {folder} ({exc.strerror}): pick another --out.") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise RunFolderError(f"{folder} is not writable: fix its permissions or pick another --out.")
    for path in files:
        if path.exists() and not path.is_file():
            raise RunFolderError(f"{path} is not a file, but the course run writes one there: {fix}.")


def run_chapter(chapter: Chapter, profile: str, out: Path, cell_timeout: int = 1800) -> ChapterOutcome:
    """Execute one chapter into `out`; a failure of any kind is the outcome's error, never raised.

    The chapter's earlier results file is moved to results/previous/ first, and whatever a failed
    run recorded is removed, so results/<chapter>.json exists only after a successful run; an
    earlier executed notebook is removed, so the index never links another run's notebook.
    """
    results = out / "results" / f"{chapter.name}.json"
    notebook = out / "notebooks" / f"{chapter.name}.ipynb"
    if results.exists():
        os.replace(results, out / "results" / "previous" / results.name)
    notebook.unlink(missing_ok=True)
    env_before = dict(os.environ)
    os.environ.update(
        BIGMODEL_PROFILE=profile,
        BIGMODEL_RESULTS_DIR=str(out / "results"),
        TF_CPP_MIN_LOG_LEVEL="3",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    started = time.perf_counter()
    title = chapter.name
    try:
        title = chapter.title  # reads the notebook: a broken one fails here, naming its file
        execute_notebook(chapter, profile, notebook, cell_timeout)
        status, error = "ok", ""
    except Exception as exc:  # a failed chapter is reported on the index page, not fatal to the run
        status, error = "failed", _short_error(exc)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    if status != "ok":
        results.unlink(missing_ok=True)
    return ChapterOutcome(chapter.name, title, status, round(time.perf_counter() - started, 1), error)


def execute_notebook(chapter: Chapter, profile: str, target: Path, cell_timeout: int) -> None:
    """papermill into a hidden file, renamed to `target` once papermill is done with it (also when
    a cell failed: the executed notebook shows the error), so `target` is never half written."""
    import papermill

    running = target.with_name(f".{target.stem}.running.ipynb")
    try:
        papermill.execute_notebook(
            str(chapter.path),
            str(running),
            parameters={"PROFILE": profile},
            kernel_name=KERNEL_NAME,
            cwd=str(chapter.path.parent),
            execution_timeout=cell_timeout,
            progress_bar=False,
        )
    finally:
        if running.is_file():
            os.replace(running, target)


def render_html(notebook: Path, target: Path) -> None:
    """The executed notebook as HTML; without a notebook, an older page is removed."""
    if not notebook.exists():
        target.unlink(missing_ok=True)
        return
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4))
    atomic_write_text(target, body)


def _short_error(exc: Exception) -> str:
    text = str(exc) or "".join(traceback.format_exception_only(type(exc), exc))
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-12:])

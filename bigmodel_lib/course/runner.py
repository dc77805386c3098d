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

from ..profiles import check_profile
from .chapters import Chapter, select_chapters

KERNEL_NAME = "python3"


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
    """Run the selected chapters in `profile`; returns one outcome per chapter (never raises for a chapter)."""
    from tqdm.auto import tqdm

    check_profile(profile)
    out = Path(out).resolve()
    for sub in ("notebooks", "html", "results"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    selected = select_chapters(chapters)
    outcomes = []
    for chapter in tqdm(selected, desc=f"chapters ({profile})", unit="chapter"):
        outcome = run_chapter(chapter, profile, out, cell_timeout)
        if html:
            render_html(out / "notebooks" / f"{chapter.name}.ipynb", out / "html" / f"{chapter.name}.html")
        outcomes.append(outcome)
        tqdm.write(f"{chapter.name}: {outcome.status} in {outcome.seconds:.0f} s")
    (out / "outcomes.json").write_text(json.dumps([asdict(o) for o in outcomes], indent=2), encoding="utf-8")
    from .site import write_index

    write_index(out, outcomes, profile)
    return outcomes


def run_chapter(chapter: Chapter, profile: str, out: Path, cell_timeout: int = 1800) -> ChapterOutcome:
    import papermill

    env_before = dict(os.environ)
    os.environ.update(
        BIGMODEL_PROFILE=profile,
        BIGMODEL_RESULTS_DIR=str(out / "results"),
        TF_CPP_MIN_LOG_LEVEL="3",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(chapter.path),
            str(out / "notebooks" / f"{chapter.name}.ipynb"),
            parameters={"PROFILE": profile},
            kernel_name=KERNEL_NAME,
            cwd=str(chapter.path.parent),
            execution_timeout=cell_timeout,
            progress_bar=False,
        )
        status, error = "ok", ""
    except Exception as exc:  # a failed chapter is reported on the index page, not fatal to the run
        status, error = "failed", _short_error(exc)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return ChapterOutcome(chapter.name, chapter.title, status, round(time.perf_counter() - started, 1), error)


def render_html(notebook: Path, target: Path) -> None:
    if not notebook.exists():
        return
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4))
    target.write_text(body, encoding="utf-8")


def _short_error(exc: Exception) -> str:
    text = str(exc) or "".join(traceback.format_exception_only(type(exc), exc))
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-12:])

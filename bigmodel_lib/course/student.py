"""The student edition: what `nbgrader generate_assignment` releases, without a course directory.

Instructor notebooks carry nbgrader's cell metadata (written by `bigmodel course tidy`, see
`grading.py`): each exercise is an answer cell whose reference solution sits between
`### BEGIN SOLUTION` and `### END SOLUTION`, and a read-only test cell that runs its check.
`bigmodel course student --out DIR` writes `DIR/chapters/*.ipynb` through nbgrader's own
preprocessors, in generate_assignment's order (less the gradebook step): solutions become
nbgrader's stub, outputs are cleared, test cells are locked and checksummed so that
`nbgrader autograde` accepts the notebooks a class hands back.
"""

from __future__ import annotations

from pathlib import Path


def _release_preprocessors() -> list:
    """generate_assignment's preprocessors (nbgrader 0.9), without SaveCells (the gradebook)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        IncludeHeaderFooter,
        InstantiateTests,
        LockCells,
    )

    return [
        IncludeHeaderFooter,
        InstantiateTests,
        LockCells,
        ClearSolutions,
        ClearOutput,
        CheckCellMetadata,
        ComputeChecksums,
        ClearHiddenTests,
        ClearMarkScheme,
        ComputeChecksums,
        CheckCellMetadata,
    ]


def student_notebook(notebook):
    """A copy of `notebook` (nbformat node) as nbgrader releases it: solutions stubbed, outputs cleared."""
    import copy

    edition = copy.deepcopy(notebook)
    resources: dict = {}
    for preprocessor in _release_preprocessors():
        edition, resources = preprocessor().preprocess(edition, resources)
    edition.metadata.pop("widgets", None)
    return edition


def write_student_edition(out: Path | str, chapters: list | None = None) -> list[Path]:
    """Write the student edition of `chapters` (default: all) under `out/chapters/`."""
    import nbformat

    from ..io import atomic_write_text
    from .chapters import all_chapters

    target = Path(out) / "chapters"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chapters or all_chapters():
        notebook = nbformat.read(chapter.path, as_version=4)
        path = target / chapter.path.name
        atomic_write_text(path, nbformat.writes(student_notebook(notebook)) + "\n")
        written.append(path)
    return written

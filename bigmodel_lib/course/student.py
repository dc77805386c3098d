"""The student edition: reference solutions replaced by a stub, outputs cleared.

Instructor notebooks mark each exercise's reference solution, nbgrader-style:

    def stable_softmax(z):
        ### BEGIN SOLUTION
        shifted = z - z.max(axis=-1, keepdims=True)
        ...
        ### END SOLUTION

`bigmodel course student --out DIR` writes `DIR/chapters/*.ipynb` with each marked block replaced
by `raise NotImplementedError(...)` at the same indentation, and every output cleared.
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your solution.")'
_BLOCK = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$", re.S | re.M)


def strip_solutions(source: str) -> str:
    """Replace every marked solution block in `source` with the stub, keeping its indentation."""
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"Unbalanced solution markers: {source.count(BEGIN)} BEGIN vs {source.count(END)} END.")
    return _BLOCK.sub(lambda match: match["indent"] + STUB, source)


def has_solution(source: str) -> bool:
    return BEGIN in source


def student_notebook(notebook):
    """A copy of `notebook` (nbformat node) with solutions stubbed and outputs cleared."""
    import copy

    edition = copy.deepcopy(notebook)
    for cell in edition.cells:
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source)
        cell.outputs = []
        cell.execution_count = None
    edition.metadata.pop("widgets", None)
    return edition


def write_student_edition(out: Path | str, chapters: list | None = None) -> list[Path]:
    """Write the student edition of `chapters` (default: all) under `out/chapters/`."""
    import nbformat

    from .chapters import all_chapters

    target = Path(out) / "chapters"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chapters or all_chapters():
        notebook = nbformat.read(chapter.path, as_version=4)
        path = target / chapter.path.name
        nbformat.write(student_notebook(notebook), path)
        written.append(path)
    return written

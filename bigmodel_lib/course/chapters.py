"""The numbered chapter notebooks and what their first cell says about them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..paths import repo_root


@dataclass(frozen=True)
class Chapter:
    name: str  # "03_softmax_regression"
    path: Path

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def title(self) -> str:
        """The first heading of the notebook's first markdown cell."""
        for cell in read_notebook(self.path)["cells"]:
            if cell["cell_type"] == "markdown":
                for line in "".join(cell["source"]).splitlines():
                    if line.startswith("#"):
                        return line.lstrip("#").strip()
        return self.name


def chapters_dir() -> Path:
    return repo_root() / "chapters"


def all_chapters() -> list[Chapter]:
    return [Chapter(path.stem, path) for path in sorted(chapters_dir().glob("[0-9][0-9]*_*.ipynb"))]


def read_notebook(path: Path) -> dict:
    """The notebook's JSON; a truncated or hand-broken file is a ValueError that names it."""
    fix = f"restore it, e.g. `git checkout -- {path}`"
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a valid notebook ({exc}): {fix}.") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError(f"{path} is not a valid notebook (no list of cells): {fix}.")
    return notebook


def select_chapters(spec: str | None) -> list[Chapter]:
    """Chapters named by a comma list of numbers or names ("03,05b" or "03_softmax_regression"); None: all.

    A number matches exactly, leading zeros aside: "1" and "01" select 01 (not 10 or 11), "05" selects
    05 (not 05b). An empty or unknown selection is a ValueError listing the known chapters.
    """
    chapters = all_chapters()
    if spec is None:
        return chapters
    known = ", ".join(c.name for c in chapters)
    wanted = [item.strip() for item in spec.split(",") if item.strip()]
    if not wanted:
        raise ValueError(f"--chapters {spec!r} names no chapter: give numbers or names. Known: {known}.")
    chosen: list[Chapter] = []
    for item in wanted:
        matches = [c for c in chapters if item == c.name or _number_key(item) == _number_key(c.number)]
        if not matches:
            raise ValueError(f"No chapter matches {item!r}. Known: {known}.")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def _number_key(text: str) -> str | None:
    """"01" and "1" -> "1", "05b" -> "5b"; None for text that is not a chapter number."""
    number = re.fullmatch(r"([0-9]+)([a-z]?)", text)
    return f"{int(number[1])}{number[2]}" if number else None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

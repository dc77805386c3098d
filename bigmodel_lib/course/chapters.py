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
        notebook = json.loads(self.path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                for line in "".join(cell["source"]).splitlines():
                    if line.startswith("#"):
                        return line.lstrip("#").strip()
        return self.name


def chapters_dir() -> Path:
    return repo_root() / "chapters"


def all_chapters() -> list[Chapter]:
    return [Chapter(path.stem, path) for path in sorted(chapters_dir().glob("[0-9][0-9]*_*.ipynb"))]


def select_chapters(spec: str | None) -> list[Chapter]:
    """Chapters named by a comma list of numbers or names ("03,05" or "03_softmax_regression")."""
    chapters = all_chapters()
    if not spec:
        return chapters
    wanted = [item.strip() for item in spec.split(",") if item.strip()]
    chosen = []
    for item in wanted:
        matches = [c for c in chapters if c.name == item or c.number == item.zfill(2) or c.name.startswith(item)]
        if not matches:
            known = ", ".join(c.name for c in chapters)
            raise ValueError(f"No chapter matches {item!r}. Known: {known}.")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

"""Key figures of a chapter, recorded as they are computed and written to JSON.

`start_chapter("03_softmax_regression", PROFILE)` names the chapter; each
`record("digits_test_accuracy", acc)` adds a figure and rewrites
`<results dir>/<chapter>.json` atomically. The course runner points the results dir at
`build/course/results/` (through BIGMODEL_RESULTS_DIR); a learner's own run writes to
`build/results/`. The index page and the chapter's closing summary read these files.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from .paths import repo_root
from .profiles import check_profile


@dataclass
class ChapterRun:
    chapter: str
    profile: str
    figures: dict = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    @property
    def path(self) -> Path:
        return results_dir() / f"{self.chapter}.json"

    def as_json(self) -> dict:
        return {
            "chapter": self.chapter,
            "profile": self.profile,
            "python": platform.python_version(),
            "seconds_so_far": round(time.time() - self.started, 1),
            "figures": self.figures,
        }


_current: ChapterRun | None = None


def results_dir() -> Path:
    configured = os.environ.get("BIGMODEL_RESULTS_DIR")
    return Path(configured) if configured else repo_root() / "build" / "results"


def start_chapter(chapter: str, profile: str, seed: int = 0) -> ChapterRun:
    """Begin recording `chapter`'s figures and seed every framework; returns the run."""
    from .device import seed_everything

    global _current
    _current = ChapterRun(chapter=chapter, profile=check_profile(profile))
    seed_everything(seed)
    _write(_current)
    return _current


def record(name: str, value, *, note: str | None = None):
    """Store one key figure of the running chapter and return the value unchanged."""
    if _current is None:
        raise RuntimeError("record() needs a chapter: call bml.start_chapter(NAME, PROFILE) first.")
    _current.figures[name] = {"value": _plain(value), **({"note": note} if note else {})}
    _write(_current)
    return value


PROFILE_LABEL = "{} profile"  # the summary table's corner: where the course site reads a figure's profile
SMALL = 1e-3  # below this, a fixed-point table cell would read 0.000… or 0.0


def recorded(chapter: str | None = None):
    """The figures recorded so far (this chapter's by default) as a pandas table, for reading.

    The table's corner (its columns' name) says the run's profile, "full profile", so the summary
    a committed notebook shows, and the course site that quotes it, say which profile made the figures.
    Small non-zero numbers are shown in scientific notation (1.60e-10), since pandas prints floats
    in an object column to six decimals; `load_results()` gives the stored numbers.
    """
    import pandas as pd

    if chapter is None:
        if _current is None:
            raise RuntimeError("Nothing recorded yet: call bml.start_chapter(NAME, PROFILE) first.")
        figures, profile = _current.figures, _current.profile
    else:
        results = load_results(chapter)
        figures, profile = results["figures"], results.get("profile", "unknown")
    rows = [{"figure": k, "value": readable(v["value"]), "note": v.get("note", "")} for k, v in figures.items()]
    table = pd.DataFrame(rows, columns=["figure", "value", "note"], dtype=object).set_index("figure")
    table.columns.name = PROFILE_LABEL.format(profile)
    return table


def readable(value):
    """`value` for a table cell: a small non-zero float as a string in scientific notation."""
    if isinstance(value, float) and value != 0 and abs(value) < SMALL:
        return f"{value:.2e}"
    return value


def load_results(chapter: str, directory: Path | None = None) -> dict:
    path = (directory or results_dir()) / f"{chapter}.json"
    if not path.exists():
        raise FileNotFoundError(f"No results for chapter {chapter!r} at {path}: run that chapter first.")
    return json.loads(path.read_text(encoding="utf-8"))


def _plain(value):
    """Turn numpy/torch scalars and containers into JSON-friendly Python values."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return str(value)


def _write(run: ChapterRun) -> None:
    from .io import atomic_write_text

    atomic_write_text(run.path, json.dumps(run.as_json(), indent=2, ensure_ascii=False))

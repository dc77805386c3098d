"""Atomic writes: a file appears under its final name complete, or not at all."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

PARTIAL_SUFFIX = ".partial"  # the temporary files of atomic_path: `.<final name>.<random>.partial`


@contextmanager
def atomic_path(final: Path | str):
    """Yield a temporary path beside `final`; on success rename it over `final`.

    On any error the temporary file is removed and `final` keeps its previous content.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=PARTIAL_SUFFIX, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _fsync(tmp_path)  # the content is on disk before the new name points at it
        os.replace(tmp_path, final)
        _fsync(final.parent)  # and so is the rename
    finally:
        tmp_path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems (and Windows, for folders) cannot sync a folder
        pass
    finally:
        os.close(fd)


def remove_partial_files(folder: Path | str) -> list[Path]:
    """Delete the temporary files `atomic_path` left in `folder` when a process was killed mid-write.

    Call it only when no other process is writing into `folder`. Returns the files removed.
    """
    removed = []
    for path in Path(folder).glob(f".*{PARTIAL_SUFFIX}"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)

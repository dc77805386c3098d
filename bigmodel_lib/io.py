"""Atomic writes: a file appears under its final name complete, or not at all."""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(final: Path | str):
    """Yield a temporary path beside `final`; on success rename it over `final`.

    On any error the temporary file is removed and `final` keeps its previous content.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _new_temp_file_beside(final)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _new_temp_file_beside(final: Path) -> Path:
    """A new empty file beside `final`, created with the mode `open()` gives (0o666 less the umask:
    0o644 by default) rather than mkstemp's 0o600, so a cache or model folder copied to a shared
    place stays readable by the other users there."""
    while True:
        candidate = final.with_name(f".{final.name}.{secrets.token_hex(6)}.partial")
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return candidate

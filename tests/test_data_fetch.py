"""The data layer: cache → mirror → download, every file checked by sha256."""

import hashlib
import importlib
import zipfile

import pytest

from bigmodel_lib.data.fetch import DataUnavailableError, fetch, verify
from bigmodel_lib.data.registry import DataSet, get, registry

fetch_module = importlib.import_module("bigmodel_lib.data.fetch")

CONTENT = b"To be, or not to be, that is the question.\n"
DIGEST = hashlib.sha256(CONTENT).hexdigest()


def fake_entry(urls=(), **overrides) -> DataSet:
    fields = dict(
        name="fake_text",
        title="a one-line test file",
        kind="files",
        license="test",
        citation="test",
        urls=tuple(urls),
        files={"text.txt": DIGEST},
        size_bytes=len(CONTENT),
    )
    fields.update(overrides)
    return DataSet(**fields)


@pytest.fixture
def use_entry(monkeypatch):
    def install(entry):
        monkeypatch.setattr(fetch_module, "get", lambda name: entry)
        return entry

    return install


def test_cache_hit(isolated_cache, use_entry):
    use_entry(fake_entry())
    (isolated_cache / "fake_text").mkdir(parents=True)
    (isolated_cache / "fake_text" / "text.txt").write_bytes(CONTENT)
    assert fetch("fake_text") == isolated_cache / "fake_text"


def test_mirror_hit(isolated_cache, use_entry, tmp_path, monkeypatch):
    use_entry(fake_entry())
    mirror = tmp_path / "mirror"
    (mirror / "fake_text").mkdir(parents=True)
    (mirror / "fake_text" / "text.txt").write_bytes(CONTENT)
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(mirror))
    assert fetch("fake_text") == mirror / "fake_text"


def test_download_writes_verified_file(isolated_cache, use_entry, tmp_path):
    source = tmp_path / "served.txt"
    source.write_bytes(CONTENT)
    use_entry(fake_entry(urls=[source.as_uri()]))
    folder = fetch("fake_text", progress=False)
    assert (folder / "text.txt").read_bytes() == CONTENT


def test_download_from_archive_member(isolated_cache, use_entry, tmp_path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("inner/text.txt", CONTENT)
    use_entry(fake_entry(urls=[archive.as_uri()], archive_members={"text.txt": "inner/text.txt"}))
    assert (fetch("fake_text", progress=False) / "text.txt").read_bytes() == CONTENT


def test_corrupt_cache_file_is_moved_aside_and_fetched_again(isolated_cache, use_entry, tmp_path):
    source = tmp_path / "served.txt"
    source.write_bytes(CONTENT)
    use_entry(fake_entry(urls=[source.as_uri()]))
    cached = isolated_cache / "fake_text" / "text.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")
    fetch("fake_text", progress=False)
    assert cached.read_bytes() == CONTENT
    assert (cached.parent / "text.txt.corrupt").read_bytes() == b"truncated"


def test_wrong_checksum_everywhere_is_an_error(isolated_cache, use_entry, tmp_path):
    source = tmp_path / "served.txt"
    source.write_bytes(b"something else entirely")
    use_entry(fake_entry(urls=[source.as_uri()]))
    with pytest.raises(DataUnavailableError, match="sha256"):
        fetch("fake_text", progress=False)
    assert not (isolated_cache / "fake_text" / "text.txt").exists()


def test_corrupt_mirror_is_skipped_not_trusted(isolated_cache, use_entry, tmp_path, monkeypatch):
    use_entry(fake_entry())
    mirror = tmp_path / "mirror"
    (mirror / "fake_text").mkdir(parents=True)
    (mirror / "fake_text" / "text.txt").write_bytes(b"bit rot")
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(mirror))
    with pytest.raises(DataUnavailableError, match="wrong sha256"):
        fetch("fake_text")


def test_missing_everywhere_says_where_it_looked_and_what_to_do(isolated_cache, use_entry, tmp_path):
    use_entry(fake_entry(urls=[(tmp_path / "nowhere.txt").as_uri()]))
    with pytest.raises(DataUnavailableError) as error:
        fetch("fake_text", progress=False)
    message = str(error.value)
    assert "fake_text" in message and "cache" in message and "BIGMODEL_DATA_MIRROR" in message
    assert "bigmodel data fetch fake_text" in message


def test_interrupted_download_leaves_no_partial_file(isolated_cache, use_entry, monkeypatch):
    use_entry(fake_entry(urls=["https://example.invalid/text.txt"]))

    def broken_download(url, expected_size, progress):
        raise ConnectionResetError("connection dropped half-way")

    monkeypatch.setattr(fetch_module, "_download_bytes", broken_download)
    with pytest.raises(DataUnavailableError, match="connection dropped"):
        fetch("fake_text", progress=False)
    folder = isolated_cache / "fake_text"
    assert not (folder / "text.txt").exists()
    assert not list(folder.glob("*.partial")) if folder.exists() else True


def test_unknown_name_lists_known_ones():
    with pytest.raises(KeyError, match="tinyshakespeare"):
        get("tiny_shakspeare")


def test_registry_entries_are_complete():
    for entry in registry().values():
        assert entry.license and entry.citation, entry.name
        if entry.kind in ("files", "online"):
            assert entry.canonical_url and entry.files, entry.name
            assert all(len(digest) == 64 for digest in entry.files.values()), entry.name


@pytest.mark.parametrize("name", [n for n, e in registry().items() if e.in_mirror])
def test_mirrored_sets_verify(name):
    ok, where = verify(name)
    assert ok, where


def test_fsdd_is_verified_file_by_file():
    entry = get("fsdd")
    assert len(entry.files) == 3000
    assert all(rel.startswith("recordings/") and rel.endswith(".wav") for rel in entry.files)

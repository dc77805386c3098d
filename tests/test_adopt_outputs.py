"""`course adopt`: a `make course` run's outputs committed into the chapter without running again."""

import nbformat
import pytest

from bigmodel_lib.course.authoring import adopt_outputs


def chapter_and_run(tmp_path, changed_source=False):
    chapter = nbformat.v4.new_notebook()
    chapter.cells = [nbformat.v4.new_markdown_cell("# 99 · T — 标题"),
                     nbformat.v4.new_code_cell("PROFILE = 'full'", metadata={"tags": ["parameters"]}),
                     nbformat.v4.new_code_cell("print(1 + 1)")]
    run = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell('PROFILE = "full"', metadata={"tags": ["injected-parameters"]},
                                         execution_count=2)
    body = nbformat.v4.new_code_cell("print(1 + 2)" if changed_source else "print(1 + 1)", execution_count=3,
                                     metadata={"papermill": {"duration": 0.1}},
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text="2\n")])
    run.cells = [chapter.cells[0].copy(), nbformat.v4.new_code_cell("PROFILE = 'full'", execution_count=1,
                                                                      metadata={"tags": ["parameters"]}),
                 injected, body]
    nbformat.write(chapter, tmp_path / "99_t.ipynb")
    nbformat.write(run, tmp_path / "run.ipynb")
    return tmp_path / "run.ipynb", tmp_path / "99_t.ipynb"


def test_adopt_drops_the_injected_cell_and_renumbers(tmp_path):
    run, chapter = chapter_and_run(tmp_path)
    adopted = nbformat.read(adopt_outputs(run, chapter), as_version=4)
    code = [c for c in adopted.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    assert code[1].outputs[0]["text"] == "2\n" and "papermill" not in code[1].metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in adopted.cells)


def test_adopt_refuses_a_run_of_other_code(tmp_path):
    run, chapter = chapter_and_run(tmp_path, changed_source=True)
    before = chapter.read_text()
    with pytest.raises(ValueError, match="other code"):
        adopt_outputs(run, chapter)
    assert chapter.read_text() == before

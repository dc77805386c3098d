"""Every exercise check passes on the instructor edition and fails on the student edition.

Exercise cells are self-contained up to their check call (their own imports, real data loaded
by the check), so each can be run here without the rest of its chapter: the reference solution
must pass its check, the student stub must not. Lines after the last check call may use the
chapter's variables (a demo of the learner's function) and are not run here.
"""

import json

import pytest

from bigmodel_lib.course.chapters import all_chapters
from bigmodel_lib.course.student import has_solution, strip_solutions, student_notebook
from bigmodel_lib.exercises import ExerciseFailed


def exercise_cells(chapter) -> list[str]:
    notebook = json.loads(chapter.path.read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return [through_last_check(source) for source in sources if has_solution(source)]


def through_last_check(source: str) -> str:
    """The cell up to and including its last top-level `…check_…(` call."""
    lines = source.splitlines()
    calls = [i for i, line in enumerate(lines) if "check_" in line and not line[:1].isspace() and "(" in line]
    return "\n".join(lines[: calls[-1] + 1]) if calls else source


CHAPTERS_WITH_EXERCISES = [c for c in all_chapters() if exercise_cells(c)]


def test_strip_solutions_keeps_indentation_and_the_rest():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\ncheck(f)\n"
    stripped = strip_solutions(source)
    assert "return x + 1" not in stripped
    assert "    raise NotImplementedError(" in stripped and stripped.endswith("check(f)\n")


def test_unbalanced_markers_are_an_error():
    with pytest.raises(ValueError, match="Unbalanced"):
        strip_solutions("### BEGIN SOLUTION\nx = 1\n")


def test_student_notebook_has_no_outputs_or_solutions():
    import nbformat

    chapter = CHAPTERS_WITH_EXERCISES[0]
    edition = student_notebook(nbformat.read(chapter.path, as_version=4))
    for cell in edition.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert "### BEGIN SOLUTION" not in cell.source


@pytest.mark.parametrize("chapter", [c for c in all_chapters() if c.number != "00"], ids=lambda c: c.name)
def test_every_chapter_has_exercises(chapter):
    assert exercise_cells(chapter), f"{chapter.name} has no exercise with a marked reference solution"


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES, ids=lambda c: c.name)
def test_checks_pass_on_instructor_and_fail_on_student_edition(chapter, capsys):
    instructor, student = {}, {}
    for source in exercise_cells(chapter):
        exec(compile(source, f"<{chapter.name} exercise>", "exec"), instructor)
        with pytest.raises((NotImplementedError, ExerciseFailed)):
            exec(compile(strip_solutions(source), f"<{chapter.name} student exercise>", "exec"), student)
    assert "passed" in capsys.readouterr().out

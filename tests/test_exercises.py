"""Every exercise check passes on the instructor edition and fails on the student edition.

Each exercise is an nbgrader pair (bigmodel_lib/course/grading.py): an answer cell holding the
reference solution, then a test cell that calls its check. The pairs are self-contained up to
their check calls (their own imports, real data loaded by the check), so `exercise_notebook`
runs them here without the rest of the chapter: every check must pass on the instructor's
answers and fail on the student edition's stubs (the test cells' lines after the last check may
use the chapter's variables and are cut).
"""

import nbformat
import pytest

from bigmodel_lib.course.chapters import all_chapters
from bigmodel_lib.course.grading import exercise_notebook
from bigmodel_lib.course.student import student_notebook
from bigmodel_lib.exercises import ExerciseFailed


def exercises(chapter):
    return exercise_notebook(nbformat.read(chapter.path, as_version=4))


def is_test(cell) -> bool:
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade", False)


CHAPTERS_WITH_EXERCISES = [c for c in all_chapters() if any(is_test(cell) for cell in exercises(c).cells)]


def test_student_notebook_has_no_outputs_or_solutions():
    chapter = CHAPTERS_WITH_EXERCISES[0]
    edition = student_notebook(nbformat.read(chapter.path, as_version=4))
    for cell in edition.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert "### BEGIN SOLUTION" not in cell.source


@pytest.mark.parametrize("chapter", [c for c in all_chapters() if c.number != "00"], ids=lambda c: c.name)
def test_every_chapter_has_exercises(chapter):
    assert chapter in CHAPTERS_WITH_EXERCISES, f"{chapter.name} has no exercise with a check (run `bigmodel course tidy`)"


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES, ids=lambda c: c.name)
def test_checks_pass_on_instructor_and_fail_on_student_edition(chapter, capsys):
    instructor_cells = exercises(chapter).cells
    student_cells = student_notebook(exercises(chapter)).cells
    instructor, student = {}, {}
    for mine, theirs in zip(instructor_cells, student_cells, strict=True):
        if mine.cell_type != "code":
            continue
        name = f"<{chapter.name} {mine.metadata.get('nbgrader', {}).get('grade_id', 'set-up')}>"
        exec(compile(mine.source, name, "exec"), instructor)
        if is_test(mine):
            with pytest.raises((NotImplementedError, ExerciseFailed)):
                exec(compile(theirs.source, name, "exec"), student)
        else:
            exec(compile(theirs.source, name, "exec"), student)
    assert "passed" in capsys.readouterr().out

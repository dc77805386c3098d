"""The exercises are an nbgrader assignment: metadata consistent, release and autograde round trip.

`bigmodel course tidy` writes the metadata (bigmodel_lib/course/grading.py); these tests check
the committed chapters carry it, and run nbgrader's own command line on two chapters in a
temporary course directory, on their exercises only (`exercise_notebook`), so it takes seconds.
"""

import copy
import os
from pathlib import Path

import nbformat
import pytest

from bigmodel_lib.course.chapters import all_chapters, select_chapters
from bigmodel_lib.course.grading import (
    BEGIN,
    INTRO,
    ExerciseFormatError,
    check_name,
    exercise_notebook,
    mark_exercises,
    split_exercise,
    write_course_directory,
)
from bigmodel_lib.course.student import student_notebook
from tests.conftest import REPO

CHAPTERS = [c for c in all_chapters() if c.number != "00"]
ROUND_TRIP = ("03", "09")

EXERCISE = """import numpy as np
from bigmodel_lib.exercises import ch03 as ex


def softmax_rows(z):
    ### BEGIN SOLUTION
    return np.exp(z) / np.exp(z).sum()
    ### END SOLUTION


ex.check_stable_softmax(softmax_rows);
print(softmax_rows(np.zeros(3)))"""


def read(chapter):
    return nbformat.read(chapter.path, as_version=4)


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def toy_notebook(*cells):
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def test_split_moves_the_check_and_what_follows_into_the_test_cell():
    answer, test = split_exercise(EXERCISE)
    assert answer.startswith("import numpy as np\n\n\ndef softmax_rows(z):") and answer.endswith("### END SOLUTION")
    assert "check_" not in answer and "bigmodel_lib.exercises" not in answer
    assert test == (
        "from bigmodel_lib.exercises import ch03 as ex\n"
        "ex.check_stable_softmax(softmax_rows);\n"
        "print(softmax_rows(np.zeros(3)))"
    )


def test_marking_is_idempotent_and_ids_come_from_names():
    intro = nbformat.v4.new_markdown_cell(
        "## Exercises\n\nThe solution sits between the `BEGIN SOLUTION` and `END SOLUTION` lines.\n\n**1.** Softmax.",
        metadata={"tags": ["lang-en"]},
    )
    intro_zh = nbformat.v4.new_markdown_cell("参考答案在 `### BEGIN SOLUTION` 与 `### END SOLUTION` 之间。", metadata={"tags": ["lang-zh"]})
    exercise = nbformat.v4.new_code_cell(EXERCISE, execution_count=2, outputs=[nbformat.v4.new_output("stream", text="ok\n")])
    notebook = toy_notebook(nbformat.v4.new_code_cell("x = 1", execution_count=1), intro, intro_zh, exercise)
    assert mark_exercises(notebook, "03")
    once = copy.deepcopy(notebook)
    assert not mark_exercises(notebook, "03") and notebook == once
    answer, test = notebook.cells[3:]
    assert nbgrader(answer)["grade_id"] == "ch03-softmax_rows" and nbgrader(answer)["solution"]
    assert nbgrader(test) | {"points": 1} == nbgrader(test) and nbgrader(test)["locked"] and nbgrader(test)["grade"]
    assert nbgrader(test)["grade_id"] == "ch03-check_stable_softmax"
    assert answer.outputs == [] and test.outputs[0]["text"] == "ok\n"  # the check printed it
    assert [c.execution_count for c in (notebook.cells[0], answer, test)] == [1, 2, 3]
    assert INTRO["en"] in notebook.cells[1].source and "**1.** Softmax." in notebook.cells[1].source
    assert notebook.cells[2].source == INTRO["zh"] and notebook.cells[2].metadata["tags"] == ["lang-zh"]


def test_an_open_exercise_gets_a_manually_graded_answer_cell():
    cell = nbformat.v4.new_markdown_cell("**3 (open) · Your question.** Try it.\n\n## Summary\n\n- done")
    notebook = toy_notebook(cell)
    mark_exercises(notebook, "08b")
    before, answer, after = notebook.cells
    assert before.source == "**3 (open) · Your question.** Try it." and after.source == "## Summary\n\n- done"
    assert nbgrader(answer) | {"grade": True, "solution": True, "points": 1} == nbgrader(answer)
    assert nbgrader(answer)["grade_id"] == "ch08b-open_3"
    mark_exercises(notebook, "08b")
    assert len(notebook.cells) == 3


def test_numeric_checks_of_the_chapters_are_not_exercise_checks():
    assert check_name('bml.check_close("softmax vs torch", err, bound)') is None
    assert check_name("bml.check_matches(name, a, b, terms=3)") is None
    assert check_name("ex.check_stable_softmax(softmax_rows);") == "check_stable_softmax"
    assert check_name("check_x(f)") == "check_x"


def test_an_answer_without_a_check_is_an_error():
    alone = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    with pytest.raises(ExerciseFormatError, match="`f` has no check call"):
        mark_exercises(toy_notebook(alone), "03")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_committed_chapters_carry_consistent_nbgrader_metadata(chapter):
    from nbgrader.nbgraderformat import MetadataValidator

    notebook = read(chapter)
    MetadataValidator().validate_nb(notebook)  # unique grade ids, points on grade cells, …
    marked = copy.deepcopy(notebook)
    mark_exercises(marked, chapter.number)
    assert marked.cells == notebook.cells, "run `bigmodel course tidy` (nbgrader cells)"
    tests = [c for c in notebook.cells if nbgrader(c).get("grade") and c.cell_type == "code"]
    assert tests, "no autograded exercise"
    for cell in notebook.cells:
        if cell.cell_type == "code" and check_name(cell.source):
            assert cell in tests, f"a check outside a test cell:\n{cell.source}"
        if cell.cell_type == "code" and BEGIN in cell.source:
            assert nbgrader(cell).get("solution"), f"a solution outside an answer cell:\n{cell.source}"
    for cell in tests:
        assert nbgrader(cell)["grade_id"].startswith(f"ch{chapter.number}-") and nbgrader(cell)["locked"]


def course_api(root: Path, monkeypatch):
    """nbgrader's Python API (what its command line runs) on the course directory `root`."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader asks a new gradebook's schema version of an `alembic` subprocess (5 s); ask alembic here.
    monkeypatch.setattr("nbgrader.api.get_alembic_version", alembic_head)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.Execute.timeout = 300
    return NbGraderAPI(config=config)


def alembic_head() -> str:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = AlembicConfig()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def succeeded(result: dict) -> bool:
    assert result["success"], result.get("error") or result.get("log")
    return True


def errors_by_cell(path: Path) -> dict[str, list[str]]:
    notebook = nbformat.read(path, as_version=4)
    return {
        nbgrader(cell).get("grade_id", cell.source): [o.ename for o in cell.outputs if o.output_type == "error"]
        for cell in notebook.cells
        if cell.cell_type == "code"
    }


def test_release_and_autograde_round_trip(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    chapters = select_chapters(",".join(ROUND_TRIP))
    write_course_directory(tmp_path, chapters, exercises_only=True)  # bigmodel course nbgrader --exercises-only
    api = course_api(tmp_path, monkeypatch)
    for chapter in chapters:
        assignment, name = f"ch{chapter.number}", chapter.path.name
        assert succeeded(api.generate_assignment(assignment))  # nbgrader generate_assignment chNN
        released = nbformat.read(tmp_path / "release" / assignment / name, as_version=4)
        assert student_notebook(exercise_notebook(read(chapter))).cells == released.cells  # = bigmodel course student
        for student, folder in (("teacher", "source"), ("learner", "release")):
            submitted = tmp_path / "submitted" / student / assignment
            submitted.mkdir(parents=True)
            (submitted / name).write_bytes((tmp_path / folder / assignment / name).read_bytes())
            assert succeeded(api.autograde(assignment, student))  # nbgrader autograde chNN

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        for chapter in chapters:
            teacher = gradebook.find_submission(f"ch{chapter.number}", "teacher")
            learner = gradebook.find_submission(f"ch{chapter.number}", "learner")
            # the autograded (code) points; open questions' written answers await the teacher
            assert teacher.max_code_score == learner.max_code_score >= 2
            assert teacher.code_score == teacher.max_code_score and learner.code_score == 0
            assert learner.score == 0
    for chapter in chapters:
        autograded = tmp_path / "autograded"
        assert not any(errors_by_cell(autograded / "teacher" / f"ch{chapter.number}" / chapter.path.name).values())
        learner_errors = errors_by_cell(autograded / "learner" / f"ch{chapter.number}" / chapter.path.name)
        for cell, errors in learner_errors.items():
            assert bool(errors) == ("-check_" in cell), (cell, errors)  # every check fails, nothing else does


def test_course_directory_keeps_a_teachers_edit(tmp_path):
    chapters = select_chapters("03")
    (path,) = write_course_directory(tmp_path, chapters)
    assert (tmp_path / "nbgrader_config.py").exists() and path == tmp_path / "source" / "ch03" / chapters[0].path.name
    path.write_text(path.read_text(encoding="utf-8").replace("stable softmax", "softmax"), encoding="utf-8")
    with pytest.raises(ValueError, match="exists and differs.*--force"):
        write_course_directory(tmp_path, chapters)
    write_course_directory(tmp_path, chapters, force=True)
    assert path.read_text(encoding="utf-8") == nbformat.writes(read(chapters[0])) + "\n"


def test_a_check_before_the_solution_is_a_one_line_error():
    source = "ex.check_f(f)\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    with pytest.raises(ExerciseFormatError, match=r"^chapter 03: solution markers after `ex.check_f\(f\)`[^\n]*$"):
        mark_exercises(toy_notebook(nbformat.v4.new_code_cell(source)), "03")


def test_a_test_cell_displays_no_value_nbgrader_would_read_as_partial_credit():
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\nex.check_f(f)"
    shown = nbformat.v4.new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)
    notebook = toy_notebook(nbformat.v4.new_code_cell(source, execution_count=1, outputs=[shown]))
    mark_exercises(notebook, "03")
    assert notebook.cells[1].source == "ex.check_f(f);" and notebook.cells[1].outputs == []


def test_exercises_alone_load_tensorflow_before_the_checks():
    """TensorFlow's notice on stderr would score the first Keras check zero."""
    (chapter,) = select_chapters("06")
    first = exercise_notebook(read(chapter)).cells[0]
    assert "nbgrader" not in first.metadata and first.source.startswith("import keras")
    assert "nbgrader" in exercise_notebook(read(select_chapters("03")[0])).cells[0].metadata


def test_course_nbgrader_command(tmp_path, capsys):
    from bigmodel_lib.course.cli import main

    assert main(["course", "nbgrader", "--out", str(tmp_path), "--chapters", "03", "--exercises-only"]) == 0
    released = nbformat.read(tmp_path / "source" / "ch03" / "03_softmax_regression.ipynb", as_version=4)
    assert all("nbgrader" in cell.metadata for cell in released.cells)
    assert "nbgrader generate_assignment ch03" in capsys.readouterr().out
    assert main(["course", "nbgrader", "--out", str(tmp_path), "--chapters", "00"]) == 2
    assert "Chapter 00 has no exercises" in capsys.readouterr().err

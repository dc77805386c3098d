"""nbgrader metadata for the chapters' exercises, written by `bigmodel course tidy`.

An exercise is authored as one code cell: the learner's function with its reference solution
between `### BEGIN SOLUTION` and `### END SOLUTION`, then a top-level call of its check from
`bigmodel_lib.exercises` (and possibly lines that use the function on the chapter's data).
nbgrader wants that as two cells, so `mark_exercises` splits it:

- the answer cell (`solution: true`): everything before the first check call, less the import
  of the checks;
- the read-only test cell (`grade: true`, `locked: true`, points): the import of the checks, the
  check call and the lines after it, so a wrong answer fails there with the check's hint.

Grade ids come from the chapter and the names in the code (`ch03-softmax_rows`,
`ch03-check_stable_softmax`), never from cell positions, so re-running is a no-op and a grade
stays attached to its exercise when cells move. A markdown paragraph that explains the solution
markers is replaced by one that explains the answer/test cells: nbgrader refuses any cell outside
a solution cell that contains the markers, and the student edition shows no markers anyway.
An *open* exercise (a bold heading with "(open)", answered in words) gets a manually graded
markdown answer cell after its paragraph.
"""

from __future__ import annotations

import ast
import hashlib
import re

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SCHEMA_VERSION = 3
POINTS = 1
OPEN_POINTS = 1
# A top-level call of an exercise check: `ex.check_x(f)`, `_ = ch01.check_x(f)`, `check_x(f);`
# An exercise's check call (`ex.check_stable_softmax(f)`); not the lessons' numeric checks (`bml.check_close(…)`).
_CHECK_CALL = re.compile(r"^(?:_\s*=\s*)?(?:\w+\.)?(?P<name>(?!check_close\b|check_matches\b)check_\w+)\(")
_CHECKS_IMPORT = re.compile(r"^(?:from\s+bigmodel_lib\.exercises\b|import\s+bigmodel_lib\.exercises\b)")
_OPEN_HEADING = re.compile(r"^\*\*(?P<label>[^*]*?)(?:\(open\)|（思考题）)")  # "Exercise 4 (open)", "练习 4（思考题）"
_MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION")
_CHECK_MODULE = re.compile(r"bigmodel_lib\.exercises(?:\.(?P<dotted>\w+)|\s+import\s+(?P<imported>\w+))")
# TensorFlow writes a notice to stderr when it loads, and nbgrader scores a test cell with any
# stderr output zero: an exercises-only notebook whose checks use Keras loads it first, as its
# chapter does.
LOAD_TENSORFLOW = "import keras  # TensorFlow's start-up notice on stderr lands here, not in a graded cell"

INTRO = {
    "en": (
        "Each exercise has an answer cell, where you write the function, and a read-only check cell\n"
        "below it that runs its automatic check and says what is wrong (never the answer). With\n"
        "nbgrader, the check cells are what a class is graded on."
    ),
    "zh": (
        "每道练习有一个答题单元（在其中写出函数）和其下方一个只读的检查单元：它自动检验你的函数并指出错误（但不给出答案）。\n"
        "用 nbgrader 布置作业时，评分即依据这些检查单元。"
    ),
}
# What the instructor edition shows in an open answer cell (the student edition gets nbgrader's stub).
OPEN_ANSWER_PROMPT = "*Your answer, in a few sentences (graded by the teacher).*"
OPEN_ANSWER_PROMPTS = {"en": OPEN_ANSWER_PROMPT, "zh": "*你的回答，写几句话即可（由教师评分）。*"}


class ExerciseFormatError(ValueError):
    """An exercise cell that cannot be turned into an nbgrader answer/test pair."""


def nbgrader_meta(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    """nbgrader's cell metadata (schema 3), as its own cell toolbar writes it."""
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def cell_id(grade_id: str) -> str:
    """A cell id derived from the grade id, so a split writes the same notebook every time."""
    return hashlib.sha1(grade_id.encode()).hexdigest()[:8]


def check_line_index(lines: list[str]) -> int | None:
    """Index of the first top-level check call, or None."""
    return next((i for i, line in enumerate(lines) if _CHECK_CALL.match(line)), None)


def check_name(source: str) -> str | None:
    lines = source.split("\n")
    index = check_line_index(lines)
    return None if index is None else _CHECK_CALL.match(lines[index])["name"]


def solution_function(source: str) -> str | None:
    """The name of the top-level function whose body holds the solution markers."""
    lines = source.split("\n")
    marker = next((i + 1 for i, line in enumerate(lines) if BEGIN in line), None)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.lineno <= (marker or 0) <= node.end_lineno:
            return node.name
    return None


def split_exercise(source: str) -> tuple[str, str] | None:
    """(answer, test) sources of an unsplit exercise cell, or None when it holds no check call."""
    lines = source.split("\n")
    first_check = check_line_index(lines)
    if first_check is None:
        return None
    head, tail = lines[:first_check], lines[first_check:]
    if any(BEGIN in line or END in line for line in tail):
        raise ExerciseFormatError(f"solution markers after `{tail[0].strip()}`: put the check call after the solution")
    imports = [line for line in head if _CHECKS_IMPORT.match(line)]
    answer = [line for line in head if not _CHECKS_IMPORT.match(line)]
    return "\n".join(answer).strip("\n"), "\n".join(imports + tail).strip("\n")


def _language(cell) -> str:
    return "zh" if "lang-zh" in cell.metadata.get("tags", []) else "en"


def replace_marker_paragraphs(cell) -> None:
    """Replace each markdown paragraph that mentions the solution markers by the answer/check intro."""
    paragraphs = cell.source.split("\n\n")
    cell.source = "\n\n".join(INTRO[_language(cell)] if _MARKERS.search(p) else p for p in paragraphs)


def _split_open_exercise(cell, chapter: str):
    """(`cell` cut after the open exercise's paragraphs, its answer cell, the rest or None), or None."""
    import nbformat

    paragraphs = cell.source.split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        match = _OPEN_HEADING.match(paragraph)
        if not match:
            continue
        end = next((j for j in range(index + 1, len(paragraphs)) if paragraphs[j].startswith("#")), len(paragraphs))
        label = re.sub(r"[^0-9a-z]+", "_", match["label"].lower()).strip("_") or "open"
        # a bilingual chapter asks each open question twice (zh, en): each gets its own answer cell,
        # tagged with its language so that each language edition holds one
        tags = [tag for tag in cell.metadata.get("tags", []) if tag in ("lang-zh", "lang-en")]
        grade_id = f"ch{chapter}-open_{label}" + ("_zh" if tags == ["lang-zh"] else "")
        answer = nbformat.v4.new_markdown_cell(OPEN_ANSWER_PROMPTS[_language(cell)], id=cell_id(grade_id))
        answer.metadata["nbgrader"] = nbgrader_meta(grade_id, solution=True, grade=True, points=OPEN_POINTS)
        if tags:
            answer.metadata["tags"] = tags
        rest = "\n\n".join(paragraphs[end:])
        after = None
        if rest:
            after = nbformat.v4.new_markdown_cell(rest, metadata=dict(cell.metadata), id=cell_id(grade_id + "-after"))
        cell.source = "\n\n".join(paragraphs[:end])
        return cell, answer, after
    return None


def _is_open_answer(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade_id", "").split("-", 1)[-1].startswith("open_")


def mark_exercises(notebook, chapter: str) -> bool:
    """Split and label the exercises of `notebook` (chapter number `chapter`, e.g. "03") in place.

    Returns whether any cell was split. Idempotent: a second run changes nothing.
    """
    counts_in_order = _execution_counts_in_order(notebook)
    cells, waiting_for_check = [], None  # the answer whose test cell must come next
    for position, cell in enumerate(notebook.cells):
        if waiting_for_check and not (cell.cell_type == "code" and BEGIN not in cell.source):
            raise ExerciseFormatError(f"chapter {chapter}: `{waiting_for_check}` has no check call after it")
        if cell.cell_type == "markdown":
            following = notebook.cells[position + 1] if position + 1 < len(notebook.cells) else None
            cells.extend(_mark_markdown(cell, following, chapter))
        elif cell.cell_type == "code" and BEGIN in cell.source:
            pair = _mark_exercise(cell, chapter)
            cells.extend(pair)
            waiting_for_check = solution_function(cell.source) if len(pair) == 1 else None
        elif waiting_for_check:  # an exercise split earlier: its test cell
            if check_name(cell.source) is None:
                raise ExerciseFormatError(f"chapter {chapter}: the cell after `{waiting_for_check}` must call its check")
            cells.append(_mark_test(cell, chapter))
            waiting_for_check = None
        else:
            cells.append(cell)
    if waiting_for_check:
        raise ExerciseFormatError(f"chapter {chapter}: `{waiting_for_check}` has no check call after it")
    split_any = len(cells) != len(notebook.cells)
    notebook.cells = cells
    if split_any and counts_in_order:
        _renumber(notebook)
    return split_any


def _mark_markdown(cell, following, chapter: str) -> list:
    """The markdown cell with the marker paragraph replaced, and an open exercise's answer cell."""
    replace_marker_paragraphs(cell)
    if following is not None and _is_open_answer(following):
        return [cell]
    parts = _split_open_exercise(cell, chapter)
    return [part for part in parts if part is not None] if parts else [cell]


def _mark_exercise(cell, chapter: str) -> list:
    """[answer, test] for an exercise cell written as one, [answer] for one already split."""
    import nbformat

    try:
        parts = split_exercise(cell.source)
    except ExerciseFormatError as error:
        raise ExerciseFormatError(f"chapter {chapter}: {error}") from None
    function = solution_function(parts[0] if parts else cell.source)
    if function is None:
        first_line = cell.source.strip().split("\n", 1)[0]
        raise ExerciseFormatError(
            f"chapter {chapter}: the exercise cell starting `{first_line}` has solution markers outside a "
            "top-level function: put them inside the function the learner writes"
        )
    cell.metadata["nbgrader"] = nbgrader_meta(f"ch{chapter}-{function}", solution=True, grade=False)
    if not parts:
        return [cell]
    cell.source, test_source = parts
    test = nbformat.v4.new_code_cell(test_source, id=cell_id(f"ch{chapter}-{check_name(test_source)}"))
    test.outputs, cell.outputs = cell.outputs, []  # the check printed them
    return [cell, _mark_test(test, chapter)]


def _mark_test(cell, chapter: str):
    cell.metadata["nbgrader"] = nbgrader_meta(f"ch{chapter}-{check_name(cell.source)}", solution=False, grade=True, points=POINTS)
    _quiet_last_check(cell)
    return cell


def _quiet_last_check(cell) -> None:
    """End a test cell that ends with a bare check call with `;`: nbgrader reads a test cell's
    displayed value as partial credit (a check's "passed" message is full credit only by luck)."""
    lines = cell.source.rstrip().split("\n")
    last = lines[-1]
    if _CHECK_CALL.match(last) and not last.startswith("_") and not last.rstrip().endswith(";"):
        lines[-1] = last.rstrip() + ";"
        cell.source = "\n".join(lines)
        cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]


def _execution_counts_in_order(notebook) -> bool:
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    return bool(counts) and counts == list(range(1, len(counts) + 1))


def _renumber(notebook) -> None:
    """Number the code cells 1, 2, … (a split adds a cell to a chapter committed as run in order)."""
    for count, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = count


def through_last_check(source: str) -> str:
    """A test cell's source up to and including its last top-level check call."""
    lines = source.split("\n")
    calls = [i for i, line in enumerate(lines) if _CHECK_CALL.match(line)]
    return "\n".join(lines[: calls[-1] + 1]) if calls else source


def exercise_notebook(notebook):
    """A copy of `notebook` that holds only its exercises: answer cells, and test cells cut after
    their checks (the lines after a check may use the chapter's variables).

    Each check loads its own data, so this runs in seconds where the chapter takes minutes:
    what the tests autograde, and what a teacher can release as an exercises-only assignment.
    """
    import copy

    import nbformat

    trimmed = copy.deepcopy(notebook)
    trimmed.cells = [cell for cell in trimmed.cells if "nbgrader" in cell.metadata]
    for cell in trimmed.cells:
        if cell.cell_type == "code" and cell.metadata["nbgrader"]["grade"]:
            cell.source = through_last_check(cell.source)
            _quiet_last_check(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if any(_loads_tensorflow(module) for module in _check_modules(trimmed)):
        trimmed.cells.insert(0, nbformat.v4.new_code_cell(LOAD_TENSORFLOW, id="load-tensorflow"))
    trimmed.metadata.pop("widgets", None)
    return trimmed


def _check_modules(notebook) -> set[str]:
    """The `bigmodel_lib.exercises` modules the notebook's test cells import (e.g. {"ch06"})."""
    return {
        match["dotted"] or match["imported"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for match in _CHECK_MODULE.finditer(cell.source)
    }


def _loads_tensorflow(module: str) -> bool:
    from pathlib import Path

    from .. import exercises

    path = Path(exercises.__file__).parent / f"{module}.py"
    return path.exists() and re.search(r"\b(?:keras|tensorflow)\b", path.read_text(encoding="utf-8")) is not None


NBGRADER_CONFIG = '''c = get_config()  # noqa: F821 (nbgrader's config file)
# Autograding runs each submitted notebook top to bottom: a whole chapter can take minutes
# (set BIGMODEL_PROFILE=smoke and BIGMODEL_DATA_MIRROR in the grader's environment).
c.Execute.timeout = 1800
'''


def write_course_directory(
    out, chapters: list, exercises_only: bool = False, force: bool = False, lang: str | None = None
) -> list:
    """Put each chapter in an nbgrader course directory as assignment `chNN` (`source/chNN/`).

    With `exercises_only`, an assignment holds just the chapter's exercises (`exercise_notebook`),
    which autograde in seconds. With `lang` ("zh" or "en"), only that language's prose (and open
    answer cells) is kept: a bilingual chapter asks each open question in both languages. Writes `nbgrader_config.py` when the folder has none. A source
    notebook that exists and differs (a teacher's edit) is kept unless `force`.
    """
    from pathlib import Path

    import nbformat

    from ..io import atomic_write_text

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chapters:
        notebook = nbformat.read(chapter.path, as_version=4)
        if lang:
            from .editions import edition_notebook

            notebook = edition_notebook(notebook, lang)
        text = nbformat.writes(exercise_notebook(notebook) if exercises_only else notebook) + "\n"
        path = root / "source" / f"ch{chapter.number}" / chapter.path.name
        if path.exists() and path.read_text(encoding="utf-8") != text and not force:
            raise ValueError(f"{path} exists and differs from the chapter: keep it, or pass --force to overwrite it.")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        written.append(path)
    config = root / "nbgrader_config.py"
    if not config.exists():
        atomic_write_text(config, NBGRADER_CONFIG)
    return written

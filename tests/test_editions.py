"""One source, two languages: prose pairs, editions, the lab copy, canonical code cells and figures."""

import inspect
import json
import shutil

import nbformat
import pytest

from bigmodel_lib.course import editions
from bigmodel_lib.course.authoring import GLOSSARY_FILE
from bigmodel_lib.course.chapters import Chapter, all_chapters, chapters_dir, read_notebook, select_chapters
from bigmodel_lib.course.cli import main
from bigmodel_lib.course.editions import (
    EditionError,
    canonical_problems,
    course_language,
    edition_notebook,
    figure_problems,
    is_bilingual,
    pairing_problems,
    refresh_lab_copy,
    write_edition,
)

# The chapters whose prose is still in one language, untagged. A chapter leaves this set when its
# prose gets its lang-zh / lang-en pairs (test_monolingual_list_is_exact keeps the set exact).
MONOLINGUAL: set[str] = set()


def prose(text, lang=None, **metadata):
    cell = nbformat.v4.new_markdown_cell(text)
    if lang:
        cell.metadata["tags"] = [f"lang-{lang}"]
    cell.metadata.update(metadata)
    return cell


def code(text, tags=()):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def bilingual_notebook():
    return notebook(
        prose("# 标题", "zh"),
        prose("# Title", "en"),
        code("x = 1"),
        prose("中文段落", "zh"),
        prose("An English paragraph", "en"),
        code("print(x)"),
    )


# ---------------------------------------------------------------- prose pairs


@pytest.mark.parametrize("chapter", all_chapters(), ids=lambda c: c.name)
def test_bilingual_chapters_pair_their_prose(chapter):
    nb = read_notebook(chapter.path)
    if not is_bilingual(nb):
        pytest.skip("monolingual (listed in MONOLINGUAL)")
    problems = pairing_problems(nb)
    assert not problems, f"{chapter.name}: " + "; ".join(problems)


def test_monolingual_list_is_exact():
    names = {chapter.name for chapter in all_chapters()}
    assert MONOLINGUAL <= names, f"MONOLINGUAL names chapters that do not exist: {sorted(MONOLINGUAL - names)}"
    for chapter in all_chapters():
        tagged = is_bilingual(read_notebook(chapter.path))
        if chapter.name in MONOLINGUAL:
            assert not tagged, f"{chapter.name} has language tags now: remove it from MONOLINGUAL in {__file__}"
        else:
            assert tagged, f"{chapter.name} has no lang-zh/lang-en tags: tag its prose (or list it in MONOLINGUAL)"


def test_pairing_accepts_pairs_and_tagged_answer_cells():
    nb = bilingual_notebook()
    answer = {"nbgrader": {"solution": True, "grade": True, "grade_id": "ch99-open_1"}}
    nb.cells[4:4] = [prose("答：", "zh", **answer)]
    nb.cells.append(prose("Answer:", "en", **answer))
    assert pairing_problems(nb) == []


@pytest.mark.parametrize(
    "cells, expected",
    [
        ([prose("# 标题", "zh"), code("x = 1")], "cell 0 (# 标题) is lang-zh, not immediately followed by its lang-en twin"),
        ([prose("# Title", "en"), prose("# 标题", "zh")], "cell 0 (# Title) is lang-en, without its lang-zh twin right before it"),
        ([prose("# 标题", "zh"), code("x = 1"), prose("# Title", "en")], "cell 0 (# 标题) is lang-zh, not immediately"),
        ([prose("# 标题", "zh"), prose("# Title", "en"), prose("untagged")], "cell 2 (untagged) has tags []"),
        ([prose("# 标题", "zh"), prose("# Title", "en"), code("x = 1", ["lang-en"])], "code cells are shared"),
        ([prose("a", "zh"), prose("b", "zh"), prose("c", "en"), prose("d", "en")], "cell 0 (a) is lang-zh, not immediately"),
        ([prose("a", "zh"), prose("b", "zh"), prose("c", "en"), prose("d", "en")], "cell 3 (d) is lang-en, without"),
    ],
)
def test_pairing_problems_name_the_cell(cells, expected):
    problems = pairing_problems(notebook(*cells))
    assert any(expected in problem for problem in problems), problems


# ---------------------------------------------------------------- editions


@pytest.mark.parametrize("lang", editions.LANGUAGES)
def test_edition_holds_no_cell_of_the_other_language_and_every_code_cell(lang):
    other = "en" if lang == "zh" else "zh"
    for nb in [bilingual_notebook()] + [read_notebook(c.path) for c in select_chapters("00,03")]:
        edition = edition_notebook(nb, lang)
        assert not any(f"lang-{other}" in cell.get("metadata", {}).get("tags", []) for cell in edition["cells"])
        kept = [cell for cell in nb["cells"] if editions.cell_language(cell) in (None, lang)]
        assert edition["cells"] == kept, "an edition must keep its language's and the untagged cells unchanged"
        assert [c for c in edition["cells"] if c["cell_type"] == "code"] == [c for c in nb["cells"] if c["cell_type"] == "code"]
    zh = edition_notebook(bilingual_notebook(), "zh")
    assert [c.source for c in zh.cells] == ["# 标题", "x = 1", "中文段落", "print(x)"]


def test_an_unknown_language_is_one_line():
    with pytest.raises(EditionError, match="'fr'.*zh, en"):
        edition_notebook(bilingual_notebook(), "fr")


@pytest.fixture
def course_folder(tmp_path):
    """A chapters folder with one bilingual chapter (an exercise with its solution), the glossary and a figure pair."""
    folder = tmp_path / "chapters"
    (folder / "figures").mkdir(parents=True)
    nb = bilingual_notebook()
    nb.cells[4].source += "\n\n![figure](figures/demo.en.svg)"
    nb.cells[3].source += "\n\n![图](figures/demo.zh.svg)"
    nb.cells.append(code("def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION"))
    nb.cells[-1].metadata["nbgrader"] = {
        "grade": False, "grade_id": "ch99-answer", "locked": False, "schema_version": 3, "solution": True, "task": False,
    }
    nbformat.write(nb, folder / "99_demo.ipynb")
    shutil.copyfile(chapters_dir() / GLOSSARY_FILE, folder / GLOSSARY_FILE)
    for lang in editions.LANGUAGES:
        (folder / "figures" / f"demo.{lang}.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{lang}</text></svg>')
    (folder / "figures" / "make_figures.py").write_text("# the script that draws them\n")
    return [Chapter("99_demo", folder / "99_demo.ipynb")]


def test_write_edition_puts_glossary_and_figures_beside_the_notebooks(course_folder, tmp_path):
    out = tmp_path / "zh-edition"
    write_edition(out, "zh", chapters=course_folder)
    written = json.loads((out / "99_demo.ipynb").read_text(encoding="utf-8"))
    text = json.dumps(written, ensure_ascii=False)
    assert "中文段落" in text and "English paragraph" not in text
    assert "### BEGIN SOLUTION" in text, "the (instructor) edition keeps the solutions"
    assert (out / GLOSSARY_FILE).is_file() and (out / "figures" / "demo.zh.svg").is_file()
    assert not (out / "figures" / "make_figures.py").exists()
    assert figure_problems(out, {"99_demo": written}) == [], "the edition's figure links do not resolve"


def test_student_edition_is_filtered_then_released(course_folder, tmp_path):
    out = tmp_path / "en-student"
    write_edition(out, "en", student=True, chapters=course_folder)
    text = (out / "99_demo.ipynb").read_text(encoding="utf-8")
    assert "English paragraph" in text and "中文段落" not in text
    assert "### BEGIN SOLUTION" not in text and "return 42" not in text


def test_tidy_gives_each_language_its_own_open_answer_cell(tmp_path):
    from bigmodel_lib.course.grading import OPEN_ANSWER_PROMPTS, mark_exercises

    nb = bilingual_notebook()
    nb.cells += [prose("## 练习\n\n**练习 1 (open)** 为什么？", "zh"), prose("## Exercises\n\n**Exercise 1 (open)** Why?", "en")]
    mark_exercises(nb, "99")
    assert pairing_problems(nb) == []
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(grade_ids) == 2 and len(set(grade_ids)) == 2, grade_ids
    for lang in editions.LANGUAGES:
        answers = [c for c in edition_notebook(nb, lang).cells if "nbgrader" in c.metadata]
        assert [c.source for c in answers] == [OPEN_ANSWER_PROMPTS[lang]]
    assert mark_exercises(nb, "99") is False, "a second tidy must change nothing"


def test_tidy_puts_the_colab_badge_in_both_title_cells():
    from bigmodel_lib.course.hosted import add_hosted_cells

    nb = bilingual_notebook()
    assert add_hosted_cells(nb, "99_demo.ipynb") is True
    for lang in editions.LANGUAGES:
        title = edition_notebook(nb, lang).cells[0]
        assert "colab-badge.svg" in title.source and title.source.count("colab-badge.svg") == 1, lang
    assert add_hosted_cells(nb, "99_demo.ipynb") is False, "a second tidy must change nothing"
    assert "colab-badge.svg" not in nb.cells[3].source, "only the title cells get the badge"


def test_nbgrader_course_directory_in_one_language(course_folder, tmp_path):
    from bigmodel_lib.course.grading import write_course_directory

    (path,) = write_course_directory(tmp_path / "course", course_folder, lang="en")
    text = path.read_text(encoding="utf-8")
    assert "English paragraph" in text and "中文段落" not in text and "return 42" in text


def test_cli_edition_writes_one_language(tmp_path, capsys):
    assert main(["course", "edition", "--lang", "en", "--chapters", "00", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "00_setup.ipynb").is_file() and (tmp_path / GLOSSARY_FILE).is_file()
    assert "en edition: 1 chapters" in capsys.readouterr().out


def test_cli_edition_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["course", "edition", "--help"])
    assert "--lang {zh,en}" in capsys.readouterr().out


# ---------------------------------------------------------------- the lab copy


def test_lab_copy_never_overwrites_what_the_learner_edited(course_folder, tmp_path):
    lab = tmp_path / "lab" / "en"
    first = refresh_lab_copy(lab, "en", chapters=course_folder)
    notebook_path = lab / "99_demo.ipynb"
    assert notebook_path in first.written and not first.kept
    edited = notebook_path.read_text(encoding="utf-8").replace("print(x)", "print(x * 2)  # mine")
    notebook_path.write_text(edited, encoding="utf-8")
    source = course_folder[0].path
    source.write_text(source.read_text(encoding="utf-8").replace("An English paragraph", "A better paragraph"), encoding="utf-8")
    (source.parent / GLOSSARY_FILE).write_text("# Glossary, revised\n", encoding="utf-8")

    second = refresh_lab_copy(lab, "en", chapters=course_folder)
    assert second.kept == [notebook_path] and notebook_path.read_text(encoding="utf-8") == edited
    assert (lab / GLOSSARY_FILE) in second.written and (lab / GLOSSARY_FILE).read_text() == "# Glossary, revised\n"

    notebook_path.unlink()  # the learner asks for the new version
    third = refresh_lab_copy(lab, "en", chapters=course_folder)
    assert notebook_path in third.written and "A better paragraph" in notebook_path.read_text(encoding="utf-8")
    assert not third.kept


def test_lab_copy_keeps_a_file_it_did_not_write(course_folder, tmp_path):
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "99_demo.ipynb").write_text("{}", encoding="utf-8")  # e.g. a copy made before lab-copy existed
    copy = refresh_lab_copy(lab, "zh", chapters=course_folder)
    assert copy.kept == [lab / "99_demo.ipynb"] and (lab / "99_demo.ipynb").read_text() == "{}"


def test_cli_lab_copy_refreshes_and_says_which_edited_notebooks_it_kept(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(editions, "lab_folder", lambda lang, root=None: tmp_path / "lab" / lang)
    assert main(["course", "lab-copy", "--lang", "zh", "--chapters", "00"]) == 0
    notebook_path = tmp_path / "lab" / "zh" / "00_setup.ipynb"
    assert notebook_path.is_file() and "0 kept" in capsys.readouterr().out
    notebook_path.write_text(notebook_path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    assert main(["course", "lab-copy", "--lang", "zh", "--chapters", "00"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("kept your edited 00_setup.ipynb")


@pytest.mark.parametrize(
    "environ, lang",
    [
        ({"COURSE_LANG": "zh"}, "zh"),
        ({"COURSE_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"COURSE_LANG": "zh_TW"}, "zh"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_course_language_from_course_lang_else_the_locale(environ, lang):
    assert course_language(environ) == lang


def test_a_bad_course_lang_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COURSE_LANG", "fr")
    monkeypatch.setattr(editions, "lab_folder", lambda lang, root=None: tmp_path / lang)
    assert main(["course", "lab-copy", "--chapters", "00"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "COURSE_LANG='fr'" in error and "zh or en" in error


# ---------------------------------------------------------------- canonical code cells


@pytest.mark.parametrize("chapter", all_chapters(), ids=lambda c: c.name)
def test_canonical_cells_are_the_library_code(chapter):
    problems = canonical_problems(read_notebook(chapter.path), chapter.name)
    assert not problems, "\n".join(problems)


def canonical(source, dotted="bigmodel_lib.course.editions.normalized_source"):
    return notebook(prose("intro"), code(source, [f"canonical:{dotted}"]))


def test_canonical_check_accepts_the_same_code_up_to_whitespace():
    library = inspect.getsource(editions.normalized_source)
    padded = "\n\n" + "\n".join(line + "   " for line in library.split("\n")) + "\n\n"
    assert canonical_problems(canonical(padded), "99_demo") == []


def test_canonical_check_catches_drift_and_names_chapter_cell_and_object():
    drifted = inspect.getsource(editions.normalized_source).replace(".strip(\"\\n\")", ".strip()", 1)
    assert drifted != inspect.getsource(editions.normalized_source)
    problems = canonical_problems(canonical(drifted), "99_demo")
    assert len(problems) == 1
    message = problems[0]
    assert message.startswith("99_demo, cell 1 (canonical:bigmodel_lib.course.editions.normalized_source) differs")
    assert "--- library" in message and "+++ notebook" in message and "-" in message


@pytest.mark.parametrize(
    "source, dotted, expected",
    [
        ("import re\n\ndef normalized_source(s):\n    return s", None, "must define `normalized_source` and nothing else"),
        ("def other(s):\n    return s", None, "must define `normalized_source`"),
        ("def gone():\n    pass", "bigmodel_lib.course.editions.gone", "names no importable object"),
        ("def f(:", None, "does not parse"),
    ],
)
def test_canonical_check_reports_a_cell_that_is_not_one_definition(source, dotted, expected):
    nb = canonical(source, dotted) if dotted else canonical(source)
    problems = canonical_problems(nb, "99_demo")
    assert len(problems) == 1 and expected in problems[0], problems


# ---------------------------------------------------------------- figures


def test_chapter_figures_exist_in_language_pairs_and_parse():
    notebooks = {chapter.name: read_notebook(chapter.path) for chapter in all_chapters()}
    problems = figure_problems(chapters_dir(), notebooks)
    assert not problems, "\n".join(problems)


def test_figure_check_catches_missing_twins_links_and_broken_svg(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "a.zh.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (figures / "b.zh.svg").write_text("<svg><text>unclosed</svg>")
    (figures / "b.en.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    nb = notebook(prose("![x](figures/a.zh.svg) and <img src='figures/gone.en.svg'>", "zh"))
    problems = figure_problems(tmp_path, {"99_demo": nb})
    assert "99_demo shows figures/gone.en.svg, which does not exist" in problems
    assert "figures/a.zh.svg has no en twin a.en.svg" in problems
    assert any(p.startswith("figures/b.zh.svg is not well-formed XML") for p in problems)
    assert len(problems) == 3, problems

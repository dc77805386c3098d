"""One source, two languages: the chapters' language editions, and the checks that keep the source honest.

A chapter's prose cells carry their language as a cell tag (`lang-zh`, `lang-en`; the Chinese cell
first, its English twin right after it); code cells are shared. An *edition* keeps one language's
prose and every code cell:

    bigmodel course edition --lang zh --out DIR            (DIR/NN_*.ipynb, glossary.md, figures/)
    bigmodel course edition --lang en --student --out DIR  (then nbgrader's release steps)
    bigmodel course lab-copy                              (what `make lab` opens: lab/<lang>/)

Untagged markdown cells are kept in both editions (chapters not yet bilingual are English only).
The lab copy is the learner's working copy: a notebook the learner changed there is never
overwritten (each file's sha256 is recorded when it is written; one that no longer matches is kept).

A code cell tagged `canonical:<dotted.path>` shows the library's own definition of that object:
`canonical_problems` says where its source has drifted from `inspect.getsource(<object>)`.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import importlib
import inspect
import json
import os
import re
import shutil
import textwrap
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("zh", "en")
LANG_TAGS = {lang: f"lang-{lang}" for lang in LANGUAGES}
CANONICAL_PREFIX = "canonical:"
FIGURES_DIR = "figures"
LAB_DIR = "lab"  # the learner's working copies, at the repository root (git-ignored)
LAB_RECORD = ".edition-sha256.json"  # in a lab copy: what was last written there, file by file
# An image a prose cell shows from the figures folder: ![alt](figures/x.svg) or <img src="figures/x.svg">
_FIGURE_LINK = re.compile(r"(?:\]\(|src=[\"'])(figures/[^)\"'\s]+)")
_FIGURE_NAME = re.compile(r"(?P<name>.+)\.(?P<lang>zh|en)\.svg")


class EditionError(ValueError):
    """An edition cannot be written; the one-line message names what is wrong and the fix."""


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise EditionError(f"Unknown course language {lang!r}: choose one of {', '.join(LANGUAGES)}.")
    return lang


def cell_language(cell) -> str | None:
    """"zh" or "en" for a cell tagged `lang-zh` / `lang-en`, None for an untagged cell."""
    tags = cell.get("metadata", {}).get("tags", [])
    found = [lang for lang, tag in LANG_TAGS.items() if tag in tags]
    return found[0] if len(found) == 1 else None


def language_tags(cell) -> list[str]:
    return [tag for tag in cell.get("metadata", {}).get("tags", []) if tag in LANG_TAGS.values()]


def edition_notebook(notebook, lang: str):
    """A copy of `notebook` (nbformat node or plain dict) without the other language's cells.

    Code cells and untagged cells are kept as they are; the edition's language is recorded in the
    notebook metadata (`bigmodel.edition`).
    """
    check_language(lang)
    edition = copy.deepcopy(notebook)
    edition["cells"] = [cell for cell in edition["cells"] if cell_language(cell) in (None, lang)]
    edition["metadata"].setdefault("bigmodel", {})["edition"] = lang
    return edition


def is_bilingual(notebook) -> bool:
    """Whether any cell of `notebook` carries a language tag."""
    return any(language_tags(cell) for cell in notebook["cells"])


def _is_answer_cell(cell) -> bool:
    """An nbgrader answer cell (the learner writes there): not prose, though it may carry its language."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def pairing_problems(notebook) -> list[str]:
    """How a bilingual notebook breaks the prose-pair convention (empty when it keeps it).

    Every markdown cell carries exactly one language tag, and each `lang-zh` prose cell is
    immediately followed by its `lang-en` twin (an nbgrader answer cell after its question is
    not prose: it is skipped); code cells are shared, so they carry no language tag.
    """
    problems = []
    sequence = []  # (position in the notebook, language or None for a code cell), answer cells left out
    for index, cell in enumerate(notebook["cells"]):
        tags = language_tags(cell)
        if cell["cell_type"] != "markdown":
            if tags:
                problems.append(f"cell {index} is a {cell['cell_type']} cell tagged {tags}: code cells are shared, untag it")
            sequence.append((index, None))
        elif len(tags) != 1:
            problems.append(f"cell {index} ({_first_line(notebook, index)}) has tags {tags}: give it exactly one of lang-zh, lang-en")
        elif not _is_answer_cell(cell):
            sequence.append((index, cell_language(cell)))
    for position, (index, lang) in enumerate(sequence):
        after = sequence[position + 1][1] if position + 1 < len(sequence) else None
        before = sequence[position - 1][1] if position > 0 else None
        if lang == "zh" and after != "en":
            problems.append(f"cell {index} ({_first_line(notebook, index)}) is lang-zh, not immediately followed by its lang-en twin")
        elif lang == "en" and before != "zh":
            problems.append(f"cell {index} ({_first_line(notebook, index)}) is lang-en, without its lang-zh twin right before it")
    return problems


def _first_line(notebook, index: int) -> str:
    source = _source(notebook["cells"][index]).strip()
    line = source.split("\n", 1)[0] if source else "(empty)"
    return line[:60] + ("…" if len(line) > 60 else "")


def _source(cell) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


# ---------------------------------------------------------------- canonical code cells


@dataclass(frozen=True)
class CanonicalCell:
    index: int  # the cell's position in the notebook
    dotted: str  # "bigmodel_lib.models.softmax.train_sgd"
    source: str


def canonical_cells(notebook) -> list[CanonicalCell]:
    """The code cells that declare, by a `canonical:<dotted.path>` tag, the library object they define."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith(CANONICAL_PREFIX) and cell["cell_type"] == "code":
                found.append(CanonicalCell(index, tag[len(CANONICAL_PREFIX) :], _source(cell)))
    return found


def resolve_object(dotted: str):
    """The object a dotted path names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for name in parts[split:]:
                target = getattr(target, name)
        except AttributeError:
            break
        return target
    raise EditionError(f"`{dotted}` names no importable object: fix the cell's canonical: tag")


def normalized_source(source: str) -> str:
    """The source up to whitespace at line ends and blank lines at either end."""
    return "\n".join(line.rstrip() for line in source.strip("\n").split("\n")).strip("\n")


def canonical_problems(notebook, where: str) -> list[str]:
    """For each canonical cell of `notebook` (named `where` in messages) that is not exactly its
    library object: a message naming the chapter, the cell and the object, with a short diff."""
    problems = []
    for cell in canonical_cells(notebook):
        label = f"{where}, cell {cell.index} (canonical:{cell.dotted})"
        shape = _single_definition_problem(cell)
        if shape:
            problems.append(f"{label}: {shape}")
            continue
        try:
            library = textwrap.dedent(inspect.getsource(resolve_object(cell.dotted)))
        except (EditionError, TypeError, OSError) as exc:
            problems.append(f"{label}: {exc}")
            continue
        mine, theirs = normalized_source(cell.source), normalized_source(library)
        if mine != theirs:
            diff = list(difflib.unified_diff(theirs.split("\n"), mine.split("\n"), "library", "notebook", n=1, lineterm=""))
            shown = "\n".join(diff[:30]) + ("\n…" if len(diff) > 30 else "")
            problems.append(f"{label} differs from the library's source; make them identical:\n{shown}")
    return problems


def _single_definition_problem(cell: CanonicalCell) -> str | None:
    """Why the cell is not one definition of the object its tag names (None when it is)."""
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        return f"does not parse ({exc.msg}, line {exc.lineno})"
    name = cell.dotted.rsplit(".", 1)[-1]
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    if len(tree.body) != 1 or not isinstance(tree.body[0], definitions) or tree.body[0].name != name:
        return f"must define `{name}` and nothing else (imports and calls go in the next cell)"
    return None


# ---------------------------------------------------------------- figures


def figure_problems(chapters_folder: Path, notebooks: dict[str, dict]) -> list[str]:
    """Figures referenced by the chapters (`notebooks`: name -> notebook) that are missing, and
    language pairs `<name>.zh.svg` / `<name>.en.svg` with one side missing or not parsing as XML."""
    problems = []
    for name, notebook in notebooks.items():
        for cell in notebook["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for link in _FIGURE_LINK.findall(_source(cell)):
                if not (chapters_folder / link).is_file():
                    problems.append(f"{name} shows {link}, which does not exist")
    figures = chapters_folder / FIGURES_DIR
    for svg in sorted(figures.rglob("*.svg")) if figures.is_dir() else []:
        match = _FIGURE_NAME.fullmatch(svg.name)
        if match:
            other = "en" if match["lang"] == "zh" else "zh"
            twin = svg.with_name(f"{match['name']}.{other}.svg")
            if not twin.is_file():
                problems.append(f"{svg.relative_to(chapters_folder)} has no {other} twin {twin.name}")
        try:
            ElementTree.parse(svg)
        except ElementTree.ParseError as exc:
            problems.append(f"{svg.relative_to(chapters_folder)} is not well-formed XML ({exc})")
    return problems


# ---------------------------------------------------------------- writing editions


def edition_files(lang: str, student: bool = False, chapters: list | None = None) -> dict[str, bytes]:
    """What an edition holds, relative path -> bytes: the notebooks, the glossary, the figures."""
    import nbformat

    from .authoring import GLOSSARY_FILE
    from .chapters import all_chapters, chapters_dir

    check_language(lang)
    chapters = chapters if chapters is not None else all_chapters()
    files = {}
    for chapter in chapters:
        notebook = edition_notebook(nbformat.read(chapter.path, as_version=4), lang)
        if student:
            from .student import student_notebook

            notebook = student_notebook(notebook)
        files[chapter.path.name] = (nbformat.writes(notebook) + "\n").encode("utf-8")
    folder = chapters[0].path.parent if chapters else chapters_dir()
    glossary = folder / GLOSSARY_FILE
    if glossary.is_file():
        files[GLOSSARY_FILE] = glossary.read_bytes()
    figures = folder / FIGURES_DIR
    for path in sorted(figures.rglob("*")) if figures.is_dir() else []:
        if path.is_file() and not path.name.endswith(".py") and "__pycache__" not in path.parts:
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def write_edition(out: Path | str, lang: str, student: bool = False, chapters: list | None = None) -> list[Path]:
    """Write the `lang` edition of `chapters` (default: all) into `out`: the notebooks with one
    language's prose (with `student`, as nbgrader releases them), glossary.md and figures/ beside
    them so their links work. Each file is written whole (temp file, then rename)."""
    from ..io import atomic_write_bytes

    out = Path(out)
    written = []
    for relative, data in edition_files(lang, student, chapters).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        written.append(path)
    return written


@dataclass(frozen=True)
class LabCopy:
    folder: Path
    written: list[Path]  # new or refreshed
    kept: list[Path]  # changed by the learner since they were written: left alone


def refresh_lab_copy(folder: Path | str, lang: str, student: bool = False, chapters: list | None = None) -> LabCopy:
    """Write or refresh the learner's working copy of the `lang` edition in `folder`.

    A file is (re)written only when it is absent or still exactly what was last written there
    (its sha256 is in `LAB_RECORD`) or already equal to the new edition; a file the learner
    changed, or one this function never wrote, is kept. The record is written last, after the files.
    """
    from ..io import atomic_write_bytes, atomic_write_text

    folder = Path(folder)
    record_path = folder / LAB_RECORD
    record = _read_record(record_path)
    written, kept = [], []
    for relative, data in edition_files(lang, student, chapters).items():
        path = folder / relative
        current = path.read_bytes() if path.is_file() else None
        if current is not None and current != data and _sha256(current) != record.get(relative):
            kept.append(path)
            continue
        if current != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, data)
            written.append(path)
        record[relative] = _sha256(data)
    atomic_write_text(record_path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return LabCopy(folder, written, kept)


def _read_record(path: Path) -> dict[str, str]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}  # no trustworthy record: every existing file counts as the learner's
    return record if isinstance(record, dict) else {}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def course_language(environ: dict | None = None) -> str:
    """The learner's language: COURSE_LANG if set, else the locale (zh* -> zh), else en."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("COURSE_LANG", "").strip()
    if chosen:
        lang = chosen.lower().split("_")[0].split("-")[0]
        if lang not in LANGUAGES:
            raise EditionError(f"COURSE_LANG={chosen!r} is not a course language: set it to zh or en.")
        return lang
    locale_name = next((environ[key] for key in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(key)), "")
    return "zh" if locale_name.lower().startswith("zh") else "en"


def lab_folder(lang: str, root: Path | None = None) -> Path:
    """The working copy `make lab` opens: `lab/<lang>/` at the repository root (one per language,
    so switching language never touches the other copy's edits)."""
    from ..paths import repo_root

    return (root or repo_root()) / LAB_DIR / check_language(lang)


def copy_tree_files(source: Path, target: Path) -> None:
    """Copy the files under `source` into `target` (for the site's figures); nothing when absent."""
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__pycache__"))

"""The course site: the committed chapters rendered by Sphinx + myst-nb, without executing them.

    bigmodel course site --out build/site       (make site)

The site is built once per language (`build/site/en/`, `build/site/zh/`), each from the chapters'
edition in that language (`editions.edition_notebook`: only that language's prose), with a link on
every page to the same page in the other language; `build/site/index.html` leads to both.
Each chapter page is its committed notebook (outputs as committed, progress bars as their final
text); the index lists every chapter with its time, prerequisites, a plot and the key figures of
its closing summary table, labelled with the profile the committed run used. Nothing is read from
`build/results` (a learner's or a test's run). The pages need no network: MathJax (SVG output, no
web fonts) is copied into `_static`, and no widget script is loaded. Sphinx gives the navigation
(sidebar, previous/next) and the search page.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..paths import repo_root
from ..results import PROFILE_LABEL
from .authoring import GLOSSARY_FILE, link_glossary
from .chapters import Chapter, all_chapters, read_notebook
from .editions import FIGURES_DIR, check_language, copy_tree_files, edition_notebook

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MATHJAX_PACKAGE, MATHJAX_FILE = "sphinx-mathjax-offline", "static/mathjax/tex-svg.js"
INDEX_FIGURES = 8  # rows of a chapter's summary table quoted on the index
BROKEN_LINK = "[myst.xref_missing]"  # Sphinx's warning for a Markdown link to a page or file it does not have
SITE_LANGUAGES = ("en", "zh")  # the first is where the site's root page leads by default
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
SPHINX_LANGUAGE = {"en": "en", "zh": "zh_CN"}
# The index page's words in each language (the chapters' own prose comes from their edition).
WORDS = {
    "en": {
        "time": "Time",
        "prerequisites": "Prerequisites",
        "profile": "{} profile",
        "no_profile": "profile not stated in the notebook",
        "more": "; {} more in the chapter",
        "key_figures": "Key figures, **{profile}** (the committed notebook's summary table{more}):",
        "columns": "| figure | value | note |",
        "plot_alt": "the first plot of chapter {}",
        "intro": "大模型开发与微调：从零开始 — a runnable course. Every page shows the chapter's committed"
        " notebook as it was run; the figures below are quoted from each chapter's closing summary,"
        " with the profile of that run. Run it yourself with `make course`, or open the notebooks"
        " with `make lab`. Terms: [glossary 术语表](chapters/{glossary}).",
        "teachers": "For teachers",
        "title": "Developing large models from scratch and fine-tuning them",
    },
    "zh": {
        "time": "时间",
        "prerequisites": "先修",
        "profile": "{} 配置（profile）",
        "no_profile": "notebook 未注明配置（profile）",
        "more": "；另有 {} 项见本章",
        "key_figures": "关键数据，**{profile}**（取自本章提交的 notebook 的小结表{more}）：",
        "columns": "| 指标 | 数值 | 说明 |",
        "plot_alt": "第 {} 章的第一幅图",
        "intro": "一门可以运行的课程（Developing large models from scratch and fine-tuning them）。每一页展示该章提交时运行过的 notebook；"
        "下面的数据引自各章末尾的小结表，并注明那次运行的配置（profile）。用 `make course` 自己运行全部章节，"
        "或用 `make lab` 打开 notebook。术语见[术语表（glossary）](chapters/{glossary})。",
        "teachers": "教师指南（For teachers）",
        "title": "大模型开发与微调：从零开始",
    },
}
# first_cell_rows: the labels of the time and prerequisites rows, English or Chinese
ROW_LABELS = {"time": r"time|时间|用时|预计时间", "prerequisites": r"prerequisites?|先修知识|先修|前置知识|预备知识"}


class SiteError(ValueError):
    """The site cannot be built; the one-line message (the CLI prints it) names what is missing and the fix."""


@dataclass(frozen=True)
class Summary:
    """A chapter's closing summary table as the committed notebook shows it."""

    profile: str | None  # "full", or None when the notebook does not say
    rows: list[tuple[str, str, str]]  # (figure, value as displayed, note)


def first_cell_rows(chapter: Chapter, lang: str = "en") -> dict[str, str]:
    """The time estimate and prerequisites stated in the first cell of the chapter's `lang`
    edition, written either as table rows (`| time | … |`) or as bold labels (`**Time:** …`)."""
    text = "".join(edition_notebook(read_notebook(chapter.path), lang)["cells"][0]["source"])
    rows = {}
    for key, label in ROW_LABELS.items():
        label = f"(?:{label})"
        row = re.search(rf"^\|\s*{label}\s*\|\s*(.+?)\s*\|", text, re.I | re.M)
        bold = re.search(rf"\*\*{label}\b([^*]*?)[:：]?\*\*[:：]?\s*(.+?)(?=\s*\*\*[A-Z\u4e00-\u9fff]|\n\n|$)", text, re.I | re.S)
        if row:
            rows[key] = re.sub(r"\s+", " ", row[1]).strip()
        elif bold:
            qualifier = bold[1].strip(" :：")
            value = re.sub(r"\s+", " ", bold[2]).strip()
            rows[key] = f"{qualifier}: {value}" if qualifier else value
    return rows


def first_plot(notebook: dict) -> bytes | None:
    """The first PNG the committed notebook shows."""
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                return base64.b64decode("".join(png) if isinstance(png, list) else png)
    return None


def summary_table(notebook: dict) -> Summary:
    """The figures of the cell that shows `bml.recorded()`, as displayed, and their profile.

    The profile is the table's corner ("full profile", written by `bml.recorded()`); notebooks run
    before the table said it name it in the output of the cell that calls `start_chapter`.
    """
    table = ""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip() == "bml.recorded()":
            for output in cell.get("outputs", []):
                value = output.get("data", {}).get("text/html", "")
                table = "".join(value) if isinstance(value, list) else value
    rows = [
        tuple(html.unescape(cell).strip() for cell in row)  # pandas escapes <, so a cell holds no tag
        for row in re.findall(r"<tr>\s*<th>([^<]*)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*</tr>", table)
    ]
    corner = re.search(r"<thead>\s*<tr[^>]*>\s*<th>(.*?)</th>", table, re.S)
    label = re.fullmatch(re.escape(PROFILE_LABEL).replace(r"\{\}", r"(\w+)"), corner[1].strip()) if corner else None
    return Summary(label[1] if label else _profile_printed_at_start(notebook), rows)


def _profile_printed_at_start(notebook: dict) -> str | None:
    from ..profiles import PROFILES

    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "start_chapter(" in "".join(cell["source"]):
            text = " ".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
            named = [p for p in PROFILES if re.search(rf"\b{p}\b", text)]
            return named[0] if len(named) == 1 else None
    return None


def site_notebook(notebook: dict) -> dict:
    """The notebook as the site shows it: progress widgets as their final text (kept in text/plain
    by `course tidy`, so no widget script is needed), no image fetched from the web, and the
    glossary linked as the chapters folder has it."""
    notebook = json.loads(json.dumps(notebook))
    notebook["metadata"].pop("widgets", None)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = link_glossary("".join(cell["source"]))
            cell["source"] = re.sub(r"!\[([^\]]*)\]\(https?://[^)]*\)", r"\1", source)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    return notebook


def build_site(
    out: Path | str = "build/site", chapters: list[Chapter] | None = None, languages: tuple[str, ...] = SITE_LANGUAGES
) -> Path:
    """Render the chapters (all by default) into `out/<lang>/` for each of `languages`, and a root
    page `out/index.html` that leads to them; returns the root page.

    The site is built beside `out` and swapped in whole, so `out` holds the previous site or the new one.
    """
    from ..io import model_folder_writer

    out = Path(out)
    chapters = chapters if chapters is not None else all_chapters()
    languages = tuple(check_language(lang) for lang in languages)
    with tempfile.TemporaryDirectory(prefix="course-site-") as work:
        for lang in languages:
            write_sources(Path(work) / "source" / lang, chapters, lang)
        with model_folder_writer(out) as staging:
            for lang in languages:
                other = [other for other in languages if other != lang]
                run_sphinx(Path(work) / "source" / lang, staging / lang, Path(work) / "doctrees" / lang, lang, other)
            # myst-nb's intermediate outputs land beside each language's folder; the pages use copies in _images
            shutil.rmtree(staging / "jupyter_execute", ignore_errors=True)
            (staging / "index.html").write_text(root_page(languages), encoding="utf-8")
    return out / "index.html"


def write_sources(source: Path, chapters: list[Chapter], lang: str = "en") -> None:
    """The Sphinx project of the `lang` site: the chapters' `lang` edition, their figures, the
    glossary, the index page and the bundled MathJax."""
    (source / "chapters").mkdir(parents=True)
    (source / "_plots").mkdir()
    folder = _chapters_folder(chapters)
    glossary = folder / GLOSSARY_FILE
    if not glossary.is_file():
        raise SiteError(f"{glossary} is missing: restore it, e.g. `git checkout -- chapters/{GLOSSARY_FILE}`.")
    shutil.copyfile(glossary, source / "chapters" / GLOSSARY_FILE)
    copy_tree_files(folder / FIGURES_DIR, source / "chapters" / FIGURES_DIR)
    cards = []
    for chapter in chapters:
        notebook = edition_notebook(read_notebook(chapter.path), lang)
        (source / "chapters" / f"{chapter.name}.ipynb").write_text(
            json.dumps(site_notebook(notebook), ensure_ascii=False), encoding="utf-8"
        )
        plot = first_plot(notebook)
        if plot:
            (source / "_plots" / f"{chapter.name}.png").write_bytes(plot)
        cards.append(chapter_card(chapter, summary_table(notebook), has_plot=plot is not None, lang=lang))
    teachers = f"# {WORDS[lang]['teachers']}\n\n" + teachers_guide()
    (source / "teachers.md").write_text(teachers, encoding="utf-8")
    (source / "index.md").write_text(index_page(chapters, cards, lang), encoding="utf-8")
    mathjax = source / "_static" / "mathjax"
    mathjax.mkdir(parents=True)
    shutil.copyfile(_mathjax_script(), mathjax / "tex-svg.js")


def chapter_card(chapter: Chapter, summary: Summary, has_plot: bool, lang: str = "en") -> str:
    """The chapter's entry on the `lang` index page (MyST Markdown)."""
    words = WORDS[lang]
    rows = {key: _links_from_index(text) for key, text in first_cell_rows(chapter, lang).items()}
    profile = words["profile"].format(summary.profile) if summary.profile else words["no_profile"]
    lines = [
        f"## [{edition_title(chapter, lang)}](chapters/{chapter.name}.ipynb)",
        "",
        f"**{words['time']}:** {rows.get('time', '—')}  ",
        f"**{words['prerequisites']}:** {rows.get('prerequisites', '—')}",
        "",
    ]
    if has_plot:
        lines += [
            f"```{{image}} _plots/{chapter.name}.png",
            f":alt: {words['plot_alt'].format(chapter.number)}",
            ":width: 360px",
            f":class: key-plot key-plot-{chapter.number}",
            "```",
            "",
        ]
    if summary.rows:
        shown = summary.rows[:INDEX_FIGURES]
        more = words["more"].format(len(summary.rows) - len(shown)) if len(summary.rows) > len(shown) else ""
        lines += [
            words["key_figures"].format(profile=profile, more=more),
            "",
            words["columns"],
            "| --- | --- | --- |",
            *(f"| {' | '.join(_table_cell(text) for text in row)} |" for row in shown),
            "",
        ]
    return "\n".join(lines)


def edition_title(chapter: Chapter, lang: str) -> str:
    """The first heading of the chapter's `lang` edition (its name when it has none)."""
    for cell in edition_notebook(read_notebook(chapter.path), lang)["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return chapter.name


def index_page(chapters: list[Chapter], cards: list[str], lang: str = "en") -> str:
    toctree = "\n".join(f"chapters/{chapter.name}" for chapter in chapters)
    return "\n".join(
        [
            f"# {WORDS[lang]['title']}",
            "",
            WORDS[lang]["intro"].format(glossary=GLOSSARY_FILE),
            "",
            "```{toctree}",
            ":maxdepth: 1",
            ":caption: Chapters 章节",
            "",
            toctree,
            f"chapters/{Path(GLOSSARY_FILE).stem}",
            "teachers",
            "```",
            "",
            *cards,
        ]
    )


def teachers_guide() -> str:
    """The README's "For teachers" section (its one home), without its heading."""
    readme = repo_root() / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    match = re.search(r"^## For teachers\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match[1].strip() + "\n" if match else "See the README's section for teachers.\n"


def root_page(languages: tuple[str, ...]) -> str:
    """The site's root: links to each language's index, and a redirect to the browser's language."""
    links = " · ".join(f'<a href="{lang}/index.html" hreflang="{lang}">{LANGUAGE_NAMES[lang]}</a>' for lang in languages)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>bigmodel-course</title>\n'
        f"<script>const langs = {json.dumps(list(languages))};\n"
        'const wanted = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";\n'
        "location.replace((langs.includes(wanted) ? wanted : langs[0]) + '/index.html');</script>\n"
        f"</head><body><p>大模型开发与微调 · bigmodel-course: {links}</p></body></html>\n"
    )


def language_switch(pagename: str, other: str) -> str:
    """The link from page `pagename` of one language's site to the same page of the `other`'s."""
    up = "../" * (pagename.count("/") + 1)
    return (
        f'<p class="language-switch" style="text-align: right"><a href="{up}{other}/{pagename}.html" hreflang="{other}">'
        f"{LANGUAGE_NAMES[other]}</a></p>\n"
    )


def _add_language_switch(others: list[str], app, pagename, templatename, context, doctree) -> None:
    """Sphinx `html-page-context` handler: every page with a body starts with the switch."""
    if others and "body" in context:
        context["body"] = "".join(language_switch(pagename, other) for other in others) + context["body"]


def run_sphinx(source: Path, target: Path, doctrees: Path, lang: str = "en", others: list[str] | None = None) -> None:
    """Build the `lang` HTML with Sphinx, each page linking to its twin in the `others` languages;
    a failed build, or a link to a page the site does not have, is a SiteError."""
    from functools import partial

    try:
        from sphinx.application import Sphinx
        from sphinx.errors import SphinxError
    except ImportError as exc:
        raise SiteError(f"The course site needs Sphinx and myst-nb ({exc}): run `make install`.") from None

    warnings = io.StringIO()
    try:
        app = Sphinx(
            str(source),
            None,
            str(target),
            str(doctrees),
            "html",
            confoverrides=sphinx_settings(lang),
            status=None,
            warning=warnings,
            freshenv=True,
        )
        app.connect("html-page-context", partial(_add_language_switch, others or []))
        app.build()
    except SphinxError as exc:
        tail = " | ".join(warnings.getvalue().strip().splitlines()[-3:])
        raise SiteError(f"Sphinx could not build the course site ({exc}); {tail}") from None
    if app.statuscode:
        raise SiteError(f"Sphinx could not build the course site: {warnings.getvalue().strip()[-500:]}")
    broken = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", warnings.getvalue()).splitlines() if BROKEN_LINK in line]
    broken = [line for line in broken if not _links_a_chapter_left_out(line, source)]
    if broken:
        where = broken[0].replace(str(source) + "/", "").split(" [")[0]
        raise SiteError(f"A link on the course site leads nowhere ({len(broken)} in all; first: {where}): fix the link.")


def sphinx_settings(lang: str = "en") -> dict:
    """conf.py's settings, in one place: notebooks as committed, math and search with no network."""
    return {
        "project": "bigmodel-course",
        "language": SPHINX_LANGUAGE[lang],
        "html_title": "大模型开发与微调 · bigmodel-course",
        "extensions": ["myst_nb"],
        "nb_execution_mode": "off",
        "nb_ipywidgets_js": {},
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        "mathjax_path": "mathjax/tex-svg.js",
        "html_static_path": ["_static"],
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {"home_page_in_toc": True, "use_download_button": False},
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "exclude_patterns": ["_plots"],
        "suppress_warnings": ["myst.header", "misc.highlighting_failure"],
    }


def _links_from_index(markdown_text: str) -> str:
    """A chapter's Markdown with its relative links (written from chapters/) made to work from the index."""
    relinked = link_glossary(markdown_text)
    return re.sub(r"\]\((?![a-z]+:|#|/)([^)\s]+)\)", r"](chapters/\1)", relinked)


def _links_a_chapter_left_out(warning: str, source: Path) -> bool:
    """Whether a broken-link warning is about a course chapter this (partial) build did not include."""
    target = re.search(r"target not found: '(?:chapters/)?([^'/]+)\.ipynb'", warning)
    known = {chapter.name for chapter in all_chapters()}
    return bool(target) and target[1] in known and not (source / "chapters" / f"{target[1]}.ipynb").exists()


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _chapters_folder(chapters: list[Chapter]) -> Path:
    from .chapters import chapters_dir

    return chapters[0].path.parent if chapters else chapters_dir()


def _mathjax_script() -> Path:
    """MathJax 3's single-file TeX-to-SVG build, shipped in a PyPI package (pinned in pyproject.toml)."""
    try:
        located = metadata.distribution(MATHJAX_PACKAGE).locate_file(f"sphinx-mathjax-offline/{MATHJAX_FILE}")
    except metadata.PackageNotFoundError:
        located = None
    if located is None or not Path(located).is_file():
        raise SiteError(f"MathJax for the course site is missing: `pip install {MATHJAX_PACKAGE}` (or `make install`).")
    return Path(located)

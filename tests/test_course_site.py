"""The course site: Sphinx + myst-nb renders the committed chapters (not executed), quotes their
summary tables with the profile, and its pages work in a real browser with the network off."""

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

import bigmodel_lib as bml
from bigmodel_lib.course.authoring import GLOSSARY_FILE, tidy_chapter
from bigmodel_lib.course.chapters import Chapter, all_chapters, chapters_dir, read_notebook, select_chapters
from bigmodel_lib.course.course_site import INDEX_FIGURES, SiteError, build_site, first_cell_rows, summary_table
from bigmodel_lib.profiles import PROFILES

# 03 has formulas and plots, 07 and 10 progress widgets and the summaries an old site misquoted,
# 10 links other chapters from its first cell: a subset keeps the build to seconds (`make site`
# builds every chapter the same way).
SITE_CHAPTERS = "03,07,10"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
OFFLINE_CHROMIUM = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # the network is off: every host name fails to resolve and every proxied request is refused
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--virtual-time-budget=20000",  # let MathJax and the search finish before the DOM is read
    "--window-size=1200,1600",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium here: `apt-get install chromium fonts-noto-cjk` (.ci/run installs them)"
)

# Added to a copy of a page: what the browser made of it, as JSON in <pre id="site-check">.
CHECK_SCRIPT = r"""
<script>
window.addEventListener("load", async () => {
  const out = {};
  try { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; else out.mathjax = "not loaded"; }
  catch (e) { out.mathjax = String(e); }
  const maths = [...document.querySelectorAll(".math")];
  out.math = maths.length;
  out.math_typeset = maths.filter(m => m.querySelector("mjx-container svg")).length;
  const prose = document.querySelector("article, main, body").cloneNode(true);
  prose.querySelectorAll("pre, code, script, style").forEach(n => n.remove());
  out.raw_tex = (prose.textContent.match(/\$\$|\\\(|\\\[/g) || []).length;
  out.images = [...document.querySelectorAll("img")].map(i => ({src: i.getAttribute("src"), cls: i.className,
                                                                 width: i.complete ? i.naturalWidth : 0}));
  out.resources = performance.getEntriesByType("resource").map(r => r.name);
  out.prev = document.querySelector("a.left-prev")?.getAttribute("href") || null;
  out.next = document.querySelector("a.right-next")?.getAttribute("href") || null;
  out.nav = [...document.querySelectorAll("nav a.reference.internal")].map(a => a.getAttribute("href"));
  const glyph = (ch) => {
    const canvas = document.createElement("canvas"); canvas.width = canvas.height = 48;
    const g = canvas.getContext("2d");
    g.font = "40px " + getComputedStyle(document.querySelector("h1")).fontFamily;
    g.fillText(ch, 4, 40);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join();
  };
  // with no CJK font both characters draw as the same missing-glyph box as an unassigned code point
  const missing = glyph("\u{10FFFD}");
  out.cjk_rendered = glyph("模") !== glyph("型") && glyph("模") !== missing && glyph("型") !== missing;
  const pre = document.createElement("pre"); pre.id = "site-check"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


@pytest.fixture(scope="module")
def both_sites(tmp_path_factory) -> Path:
    """The site in both languages: the root page, en/ and zh/."""
    out = tmp_path_factory.mktemp("course-site") / "site"
    build_site(out, select_chapters(SITE_CHAPTERS))
    return out


@pytest.fixture(scope="module")
def site(both_sites) -> Path:
    return both_sites / "en"


def test_chapters_state_time_and_prerequisites():
    for chapter in all_chapters():
        rows = first_cell_rows(chapter)
        assert "time" in rows and "prerequisites" in rows, (
            f"{chapter.name}: first cell needs time and prerequisites rows"
        )


def test_time_and_prerequisites_are_read_from_each_language_edition(tmp_path):
    cells = [
        nbformat.v4.new_markdown_cell("# 99 · 示例\n\n| 时间 | 约 5 分钟 |\n|---|---|\n| 先修知识 | 第 00 章 |"),
        nbformat.v4.new_markdown_cell("# 99 · Example\n\n**Time:** about 5 min **Prerequisites:** chapter 00"),
    ]
    for cell, lang in zip(cells, ("zh", "en"), strict=True):
        cell.metadata["tags"] = [f"lang-{lang}"]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    chapter = Chapter("99_example", path)
    assert first_cell_rows(chapter, "zh") == {"time": "约 5 分钟", "prerequisites": "第 00 章"}
    assert first_cell_rows(chapter, "en") == {"time": "about 5 min", "prerequisites": "chapter 00"}


def test_every_chapter_has_a_summary_that_names_its_profile():
    for chapter in all_chapters():
        summary = summary_table(read_notebook(chapter.path))
        assert summary.rows, f"{chapter.name}: no `bml.recorded()` summary table in the committed notebook"
        assert summary.profile in PROFILES, f"{chapter.name}: the committed notebook does not say its profile"


def test_summary_profile_comes_from_the_table_itself(results_dir):
    """The table's corner (written by bml.recorded()) wins over what the first cell printed."""
    bml.start_chapter("99_example", "smoke")
    bml.record("accuracy", 0.5)
    table = bml.recorded()
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                'run = bml.start_chapter("99_example", PROFILE)',
                outputs=[nbformat.v4.new_output("stream", text="profile: full\n")],
            ),
            nbformat.v4.new_code_cell(
                "bml.recorded()",
                outputs=[nbformat.v4.new_output("execute_result", {"text/html": table.to_html()}, execution_count=2)],
            ),
        ]
    )
    summary = summary_table(json.loads(nbformat.writes(notebook)))
    assert summary.profile == "smoke"
    assert summary.rows == [("accuracy", "0.5", "")]


def test_index_quotes_each_committed_summary_with_its_profile(site):
    """The index's key figures are the committed notebook's, not whatever a test or learner run left in build/."""
    index = (site / "index.html").read_text(encoding="utf-8")
    for chapter in select_chapters(SITE_CHAPTERS):
        summary = summary_table(read_notebook(chapter.path))
        card = re.search(rf'<h2><a class="reference internal" href="chapters/{chapter.name}.html">(.*?)(?=<h2|$)', index, re.S)
        assert card, f"{chapter.name} has no entry on the index"
        section = card[1]
        assert f"<strong>{summary.profile} profile</strong>" in section
        for figure, value, _ in summary.rows[:INDEX_FIGURES]:
            assert re.search(rf"<td><p>{re.escape(figure)}</p></td>\s*<td><p>{re.escape(value)}</p></td>", section), (
                f"{chapter.name}: {figure} = {value} is not on the index"
            )


def test_site_has_navigation_search_and_a_rendered_glossary(site):
    for chapter in select_chapters(SITE_CHAPTERS):
        page = (site / "chapters" / f"{chapter.name}.html").read_text(encoding="utf-8")
        assert 'class="left-prev"' in page and 'class="right-next"' in page, f"{chapter.name}: no previous/next links"
        assert 'href="../index.html"' in page
        links = set(re.findall(r'href="([^"#]*glossary[^"#]*)', page))
        assert links == {"glossary.html"}, f"{chapter.name}: glossary links {links}"
    assert "searchindex.js" in (site / "search.html").read_text(encoding="utf-8")
    glossary = (site / "chapters" / "glossary.html").read_text(encoding="utf-8")
    assert "<table" in glossary and "术语表" in glossary and "<pre" not in glossary


def test_teachers_page_walks_through_nbgrader(site):
    page = html.unescape(re.sub(r"<[^>]+>", "", (site / "teachers.html").read_text(encoding="utf-8")))
    page = re.sub(r"\s+", " ", page)  # code blocks split commands into highlighted spans
    for step in ("generate_assignment", "collect", "autograde", "generate_feedback", "bigmodel course nbgrader"):
        assert step in page, step
    assert "For contributors" not in page and "teachers.html" in (site / "index.html").read_text(encoding="utf-8")


def test_a_link_to_a_missing_page_fails_the_build(tmp_path):
    chapter = select_chapters("00")[0]
    folder = tmp_path / "chapters"
    folder.mkdir()
    notebook = read_notebook(chapter.path)
    notebook["cells"].append(nbformat.v4.new_markdown_cell("See [chapter 99](99_gone.ipynb)."))
    (folder / chapter.path.name).write_text(json.dumps(notebook), encoding="utf-8")
    shutil.copyfile(chapters_dir() / GLOSSARY_FILE, folder / GLOSSARY_FILE)
    with pytest.raises(SiteError, match="99_gone.ipynb"):
        build_site(tmp_path / "site", [Chapter(chapter.name, folder / chapter.path.name)], languages=("en",))
    assert not (tmp_path / "site").exists(), "a failed build left a site behind"


def test_site_is_built_in_both_languages_with_a_switch_on_every_page(both_sites):
    root = (both_sites / "index.html").read_text(encoding="utf-8")
    assert 'href="en/index.html"' in root and 'href="zh/index.html"' in root
    for lang, other in (("en", "zh"), ("zh", "en")):
        pages = [p for p in _pages(both_sites / lang) if p.name not in ("search.html", "genindex.html")]
        assert {f"{c.name}.html" for c in select_chapters(SITE_CHAPTERS)} <= {p.name for p in pages}
        for page in pages:
            switch = re.findall(r'class="language-switch"[^>]*><a href="([^"]+)"', page.read_text(encoding="utf-8"))
            assert len(switch) == 1, f"{lang}/{page.relative_to(both_sites / lang)}: {len(switch)} language switches"
            target = (page.parent / switch[0]).resolve()
            assert target == (both_sites / other / page.relative_to(both_sites / lang)).resolve() and target.is_file(), (
                f"{lang}/{page.name} switches to {switch[0]}, not to the same page in {other}"
            )


def test_each_language_site_shows_only_its_prose_and_the_figures(tmp_path):
    """A bilingual chapter: the zh pages hold its lang-zh cells (not the lang-en ones), with the zh figure."""
    chapter = select_chapters("00")[0]
    folder = tmp_path / "chapters"
    (folder / "figures").mkdir(parents=True)
    notebook = read_notebook(chapter.path)
    notebook["cells"][1:1] = [
        _tagged_prose("中文哨兵段落。\n\n![示意图](figures/demo.zh.svg)", "zh"),
        _tagged_prose("English sentinel paragraph.\n\n![diagram](figures/demo.en.svg)", "en"),
    ]
    (folder / chapter.path.name).write_text(json.dumps(notebook), encoding="utf-8")
    shutil.copyfile(chapters_dir() / GLOSSARY_FILE, folder / GLOSSARY_FILE)
    for lang in ("zh", "en"):
        (folder / "figures" / f"demo.{lang}.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{lang}</text></svg>')
    build_site(tmp_path / "site", [Chapter(chapter.name, folder / chapter.path.name)])
    for lang, mine, theirs in (("zh", "中文哨兵段落", "English sentinel"), ("en", "English sentinel", "中文哨兵段落")):
        page = tmp_path / "site" / lang / "chapters" / f"{chapter.name}.html"
        text = page.read_text(encoding="utf-8")
        assert mine in text and theirs not in text, f"the {lang} page shows the wrong language's prose"
        figures = [src for src in re.findall(r'<img[^>]*src="([^"]+)"', text) if "demo." in src]
        assert [src.rsplit("/", 1)[-1] for src in figures] == [f"demo.{lang}.svg"], figures
        assert (page.parent / figures[0]).is_file()
    assert not (tmp_path / "site" / "jupyter_execute").exists()


def _tagged_prose(text: str, lang: str) -> dict:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [f"lang-{lang}"]
    return json.loads(json.dumps(cell))


def test_every_link_on_the_site_resolves(site):
    for page in _pages(site):
        for target in re.findall(r'(?:href|src)="([^"#?]+)', page.read_text(encoding="utf-8")):
            if not re.match(r"[a-z]+:|//", target):
                assert (page.parent / target).exists(), f"{page.relative_to(site)} links {target}, which is not on the site"


def test_pages_fetch_nothing_from_the_network(site):
    for page in _pages(site):
        remote = re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*", page.read_text("utf-8"))
        assert not remote, f"{page.relative_to(site)} loads {remote[:3]}"
    assert (site / "_static" / "mathjax" / "tex-svg.js").stat().st_size > 100_000


def test_chapter_glossary_links_resolve_inside_the_lab_root():
    """An edition (and `make lab`'s copy) holds the chapters folder's files only: every chapter's glossary link must land in it."""
    assert (chapters_dir() / GLOSSARY_FILE).is_file()
    for chapter in all_chapters():
        for target in _glossary_links(chapter.path):
            resolved = (chapter.path.parent / target.split("#")[0]).resolve()
            assert resolved.is_file() and resolved.parent == chapters_dir().resolve(), (
                f"{chapter.name} links the glossary as {target}: run `bigmodel course tidy`"
            )


def test_tidy_moves_glossary_links_beside_the_chapter(tmp_path):
    chapter = select_chapters("07")[0]
    copy = tmp_path / chapter.path.name
    notebook = read_notebook(chapter.path)
    notebook["cells"][0]["source"] = "Terms: [glossary 术语表](../docs/glossary.md#attention)."
    copy.write_text(json.dumps(notebook), encoding="utf-8")
    tidy_chapter(copy)
    assert f"({GLOSSARY_FILE}#attention)" in "".join(read_notebook(copy)["cells"][0]["source"])


@needs_chromium
def test_chapter_page_works_offline_in_chromium(site, tmp_path):
    chapter = select_chapters("03")[0]
    check, screenshot = _browse(site / "chapters" / f"{chapter.name}.html", tmp_path)
    assert check.get("mathjax") is None, check.get("mathjax")
    assert check["math"] > 0 and check["math_typeset"] == check["math"], "formulas not typeset by MathJax"
    assert check["raw_tex"] == 0, "raw LaTeX left on the page"
    plots = [image for image in check["images"] if image["src"].startswith("../_images/")]
    assert plots and all(image["width"] > 0 for image in plots), f"plots not shown: {plots}"
    assert check["prev"] and check["next"], "no previous/next links"
    assert (site / "chapters" / check["next"]).is_file() and (site / "chapters" / check["prev"]).is_file()
    assert check["cjk_rendered"], "Chinese text drawn as missing glyphs: install a CJK font (fonts-noto-cjk)"
    _assert_offline(check)
    _assert_screenshot_shows_a_page(screenshot)


@needs_chromium
def test_index_page_works_offline_in_chromium(site, tmp_path):
    check, screenshot = _browse(site / "index.html", tmp_path)
    plots = [image for image in check["images"] if "key-plot" in image["cls"]]
    assert len(plots) == len(select_chapters(SITE_CHAPTERS)) and all(image["width"] > 0 for image in plots), plots
    for chapter in select_chapters(SITE_CHAPTERS):
        assert f"chapters/{chapter.name}.html" in check["nav"], f"{chapter.name} is not in the navigation"
    assert check["cjk_rendered"], "Chinese text drawn as missing glyphs: install a CJK font (fonts-noto-cjk)"
    _assert_offline(check)
    _assert_screenshot_shows_a_page(screenshot)


@needs_chromium
def test_search_finds_a_chapter_offline(site, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", (site / "search.html").as_uri() + "?q=softmax")
    results = re.search(r'<ul[^>]*class="search"[^>]*>(.*?)</ul>', dom, re.S)
    assert results and "chapters/03_softmax_regression.html" in results[1], "the search page found nothing"


def _pages(site: Path) -> list[Path]:
    """The site's pages (not the theme's template fragments in _static)."""
    return [page for page in site.rglob("*.html") if "_static" not in page.relative_to(site).parts]


def _glossary_links(notebook_path: Path) -> list[str]:
    cells = read_notebook(notebook_path)["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return re.findall(r"\]\(([^)\s]*glossary[^)\s]*)\)", text)


def _browse(page: Path, tmp_path: Path) -> tuple[dict, Path]:
    """Open a copy of `page` (same folder, with CHECK_SCRIPT) offline; its check results and a screenshot."""
    probe = page.with_name(f"check-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    screenshot = tmp_path / f"{page.stem}.png"
    try:
        dom = _chromium(tmp_path, "--dump-dom", f"--screenshot={screenshot}", probe.as_uri())
    finally:
        probe.unlink()
    found = re.search(r'<pre id="site-check"[^>]*>(.*?)</pre>', dom, re.S)
    assert found, f"the check script did not finish on {page.name}"
    return json.loads(html.unescape(found[1])), screenshot


def _chromium(tmp_path: Path, *args: str) -> str:
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    done = subprocess.run(
        [CHROMIUM, *OFFLINE_CHROMIUM, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def _assert_offline(check: dict) -> None:
    remote = [name for name in check["resources"] if not name.startswith("file:")]
    assert not remote, f"the page asked the network for {remote[:3]}"


def _assert_screenshot_shows_a_page(screenshot: Path) -> None:
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[:2] == (1600, 1200), pixels.shape
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"the screenshot is nearly blank ({len(colours)} colours)"

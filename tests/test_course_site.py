"""The static course site builds from the committed chapters and renders in a real browser."""

import shutil
import subprocess

import pytest

from bigmodel_lib.course.chapters import all_chapters
from bigmodel_lib.course.course_site import build_site, first_cell_rows, teachers_page
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return build_site(out)


def test_index_lists_every_chapter_with_its_page(site):
    page = site.read_text(encoding="utf-8")
    for chapter in all_chapters():
        assert f"chapters/{chapter.name}.html" in page
        assert (site.parent / "chapters" / f"{chapter.name}.html").stat().st_size > 10_000


def test_chapters_state_time_and_prerequisites():
    for chapter in all_chapters():
        rows = first_cell_rows(chapter)
        assert "time" in rows and "prerequisites" in rows, (
            f"{chapter.name}: first cell needs time and prerequisites rows"
        )


def test_index_shows_plots(site):
    assert list((site.parent / "plots").glob("*.png")), "no chapter plot on the index"


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: `apt-get install chromium` (.ci/run installs it)")
def test_site_renders_in_headless_chromium(site, tmp_path):
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", site.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "Developing large models from scratch" in dom
    for chapter in all_chapters():
        assert f'id="{chapter.name}"' in dom
    screenshot = tmp_path / "index.png"
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--screenshot={screenshot}",
            "--window-size=1200,1600",
            site.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.exists() and screenshot.stat().st_size > 10_000


def test_teachers_page_walks_through_nbgrader(tmp_path):
    link = teachers_page(tmp_path, REPO)
    assert "teachers.html" in link
    page = (tmp_path / "teachers.html").read_text(encoding="utf-8")
    for step in ("generate_assignment", "collect", "autograde", "generate_feedback", "bigmodel course nbgrader"):
        assert step in page, step
    assert "## For contributors" not in page and "<h1>For teachers</h1>" in page

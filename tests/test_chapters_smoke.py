"""Every chapter runs top to bottom with papermill in the `smoke` profile and records figures."""

import json

import pytest

from bigmodel_lib.course.chapters import all_chapters
from bigmodel_lib.course.runner import run_course


@pytest.mark.parametrize("chapter", all_chapters(), ids=lambda c: c.name)
def test_chapter_runs_in_smoke_profile(chapter, tmp_path):
    (outcome,) = run_course(profile="smoke", chapters=chapter.name, out=tmp_path, cell_timeout=600)
    assert outcome.status == "ok", outcome.error
    results = json.loads((tmp_path / "results" / f"{chapter.name}.json").read_text())
    assert results["profile"] == "smoke"
    assert results["figures"], "the chapter recorded no figures"
    assert (tmp_path / "html" / f"{chapter.name}.html").stat().st_size > 10_000
    index = (tmp_path / "index.html").read_text()
    assert chapter.name in index and "ok" in index

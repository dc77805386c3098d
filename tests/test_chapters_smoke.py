"""Every chapter runs top to bottom with papermill in the `smoke` profile and records figures.

nbval (the second half of `make test`) runs every chapter with this machine's own CPU kernels and
one thread. Here each chapter runs with the plain kernels (`ATEN_CPU_CAPABILITY=default`), and the
chapters whose comparisons with a reference library have the tightest bounds (softmax, attention, the
block, BERT and Llama on real weights) run once more with AVX2 kernels and two threads: their bounds
must hold on any processor. Chapter 08's and 08b's comparisons (LoRA vs peft on MiniLM and SmolLM2)
are reference-marked unit tests, which tests/test_cpu_kernels.py reruns under AVX2 without the
chapters' minutes of fine-tuning around them.
"""

import json

import pytest

from bigmodel_lib.course.chapters import all_chapters
from bigmodel_lib.course.runner import run_course

REFERENCE_CHAPTERS = {"03", "05", "05b"}
RUNS = [(chapter, "default", 1) for chapter in all_chapters()] + [
    (chapter, "avx2", 2) for chapter in all_chapters() if chapter.number in REFERENCE_CHAPTERS
]


@pytest.mark.parametrize("chapter, capability, threads", RUNS, ids=lambda v: getattr(v, "name", str(v)))
def test_chapter_runs_in_smoke_profile(chapter, capability, threads, tmp_path, monkeypatch):
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", capability)
    monkeypatch.setenv("OMP_NUM_THREADS", str(threads))
    (outcome,) = run_course(profile="smoke", chapters=chapter.name, out=tmp_path, cell_timeout=600)
    assert outcome.status == "ok", outcome.error
    results = json.loads((tmp_path / "results" / f"{chapter.name}.json").read_text())
    assert results["profile"] == "smoke"
    assert results["figures"], "the chapter recorded no figures"
    assert (tmp_path / "html" / f"{chapter.name}.html").stat().st_size > 10_000
    index = (tmp_path / "index.html").read_text()
    assert chapter.name in index and "ok" in index

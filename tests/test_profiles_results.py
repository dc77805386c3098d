import json

import pytest

import bigmodel_lib as bml
from bigmodel_lib.io import atomic_path, atomic_write_text


def test_profile_comes_from_environment(monkeypatch):
    monkeypatch.setenv("BIGMODEL_PROFILE", "smoke")
    assert bml.default_profile() == "smoke"
    monkeypatch.delenv("BIGMODEL_PROFILE")
    assert bml.default_profile() == "full"


def test_a_chosen_profile_or_device_wins_over_the_environment(monkeypatch):
    """The parameters cell holds None (from the environment) or a literal that papermill may replace."""
    monkeypatch.setenv("BIGMODEL_PROFILE", "smoke")
    monkeypatch.setenv("BIGMODEL_DEVICE", "cpu")
    assert bml.default_profile(None) == "smoke" and bml.default_device_name(None) == "cpu"
    assert bml.default_profile("full") == "full" and bml.default_device_name("auto") == "auto"
    with pytest.raises(ValueError, match="smoke, full"):
        bml.default_profile("fast")


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("BIGMODEL_PROFILE", "fast")
    with pytest.raises(ValueError, match="smoke, full"):
        bml.default_profile()


def test_by_profile():
    assert bml.by_profile("smoke", smoke=1, full=2) == 1
    assert bml.by_profile("full", smoke=1, full=2) == 2


def test_record_writes_results_json(results_dir):
    import numpy as np

    bml.start_chapter("99_example", "smoke")
    bml.record("accuracy", np.float32(0.5))
    bml.record("losses", np.array([1.0, 0.5]), note="per epoch")
    stored = json.loads((results_dir / "99_example.json").read_text())
    assert stored["profile"] == "smoke"
    assert stored["figures"]["accuracy"]["value"] == 0.5
    assert stored["figures"]["losses"] == {"value": [1.0, 0.5], "note": "per epoch"}
    assert list(bml.recorded().index) == ["accuracy", "losses"]
    assert "smoke profile" in bml.recorded().to_html()  # the summary table says which profile made it


def test_summary_table_shows_small_numbers_in_scientific_notation(results_dir):
    bml.start_chapter("99_example", "smoke")
    for name, value in (("roundoff", 1.6e-10), ("eps", 8.9e-16), ("zero", 0.0), ("accuracy", 0.875), ("n", 3)):
        bml.record(name, value)
    table = bml.recorded()
    assert "1.60e-10" in table.to_string() and "8.90e-16" in table.to_html()
    assert table.loc["zero", "value"] == 0.0 and table.loc["accuracy", "value"] == 0.875 and table.loc["n", "value"] == 3
    assert bml.load_results("99_example")["figures"]["roundoff"]["value"] == 1.6e-10  # the stored number


def test_pick_device_defaults_to_cpu_here(monkeypatch):
    monkeypatch.delenv("BIGMODEL_DEVICE", raising=False)
    assert bml.pick_device().type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="Unknown device"):
        bml.pick_device("tpu")


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "state.json"
    atomic_write_text(target, "good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]

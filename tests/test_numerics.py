"""The round-off bound and the named check that every reference comparison uses."""

import numpy as np
import pytest

from bigmodel_lib.numerics import CheckFailed, check_close, max_abs_diff, roundoff_bound, unit_roundoff


@pytest.fixture(autouse=True)
def no_margin_log(monkeypatch):
    """The checks made up here (some fail on purpose) stay out of a margin report's log."""
    monkeypatch.delenv("BIGMODEL_CHECK_LOG", raising=False)


def test_unit_roundoff_is_half_the_machine_epsilon():
    assert unit_roundoff("float32") == 2.0**-24
    assert unit_roundoff("float64") == 2.0**-53
    assert unit_roundoff("torch.float32") == 2.0**-24
    assert unit_roundoff("torch.bfloat16") == 2.0**-8 and unit_roundoff("float16") == 2.0**-11


def test_bound_grows_with_the_square_root_of_the_terms_and_the_magnitude():
    assert roundoff_bound(400) == pytest.approx(2 * roundoff_bound(100))
    assert roundoff_bound(100, magnitude=3.0) == pytest.approx(3 * roundoff_bound(100))
    assert roundoff_bound(1, dtype="float64") < 1e-14
    with pytest.raises(ValueError, match="terms"):
        roundoff_bound(0)


@pytest.mark.parametrize("n", [16, 1024, 65536])
def test_bound_holds_for_float32_sums_in_different_orders(n):
    # Two correct float32 dot products that add in different orders (pairwise in NumPy, a
    # sequential running sum) stay within the bound, relative to the sum of |terms|.
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal((2, 50, n)).astype(np.float32)
    products = x * y
    pairwise = products.sum(axis=1)
    sequential = np.cumsum(products, axis=1, dtype=np.float32)[:, -1]
    magnitude = float(np.abs(products).sum(axis=1).max())
    assert max_abs_diff(pairwise, sequential) <= roundoff_bound(n, magnitude)


def test_check_close_names_the_quantity_its_value_and_its_bound():
    assert check_close("logits", 1e-6, 2e-6) == 1e-6
    with pytest.raises(CheckFailed, match=r"^attention probabilities: difference 3e-05 exceeds its bound 1e-05$"):
        check_close("attention probabilities", 3e-5, 1e-5)
    with pytest.raises(CheckFailed, match="nan"):
        check_close("loss", float("nan"), 1.0)


def test_max_abs_diff_takes_numpy_torch_and_tensorflow():
    import tensorflow as tf
    import torch

    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    assert max_abs_diff(torch.tensor(a), tf.constant(a + 0.5)) == 0.5
    assert max_abs_diff(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        max_abs_diff(a, a[0])


def test_check_matches_bounds_relative_to_the_expected_magnitude():
    from bigmodel_lib.numerics import check_matches

    expected = np.array([100.0, -200.0], dtype=np.float32)
    nudged = expected + np.float32(1e-4)
    assert check_matches("sums", nudged, expected, terms=64) == pytest.approx(1e-4, rel=0.2)  # bound ~1.1e-3
    with pytest.raises(CheckFailed, match="^sums: difference"):
        check_matches("sums", nudged, expected, terms=64, magnitude=1.0)


def test_checks_are_logged_for_the_margin_report(tmp_path, monkeypatch):
    import json

    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("BIGMODEL_CHECK_LOG", str(log))
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    check_close("a", 1e-7, 1e-6)
    with pytest.raises(CheckFailed):
        check_close("b", 1e-5, 1e-6)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["name"], r["capability"]) for r in rows] == [("a", "avx2"), ("b", "avx2")]

    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("check_margins", Path(__file__).parents[1] / "benchmarks" / "check_margins.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.margins(log)
    assert table.loc["b", "largest difference / bound"] == pytest.approx(10.0)

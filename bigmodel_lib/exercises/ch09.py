"""Checks for chapter 09's exercises (metrics, calibration, paired comparisons)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import expect, passed


def _labels(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    flip = rng.random(n) < 0.2
    return y, np.where(flip, 1 - y, y)


def check_f1_from_counts(f1_from_counts: Callable) -> str:
    """`f1_from_counts(tp, fp, fn)` must match sklearn's f1_score (0.0 when undefined)."""
    from sklearn.metrics import f1_score

    for seed in range(4):
        y, p = _labels(seed)
        tp = int(((y == 1) & (p == 1)).sum())
        fp = int(((y == 0) & (p == 1)).sum())
        fn = int(((y == 1) & (p == 0)).sum())
        expect(abs(f1_from_counts(tp, fp, fn) - f1_score(y, p)) < 1e-12,
               "F1 = 2·precision·recall / (precision + recall) = 2·TP / (2·TP + FP + FN)")
    expect(f1_from_counts(0, 0, 0) == 0.0, "with no positives at all, return 0.0 rather than dividing by zero")
    return passed("F1 from counts")


def check_ece(ece: Callable) -> str:
    """`ece(probs, y, n_bins)` must match our expected_calibration_error."""
    from ..evaluation.calibration import expected_calibration_error

    rng = np.random.default_rng(0)
    for n_bins in (5, 10, 15):
        logits = rng.normal(size=(400, 3)) * 3
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        y = rng.integers(0, 3, size=400)
        want = expected_calibration_error(probs, y, n_bins)
        expect(abs(ece(probs, y, n_bins) - want) < 1e-9,
               "bin the top-class confidence in equal-width bins (a, b]; weight |accuracy − confidence| by bin size")
    return passed("expected calibration error")


def check_discordant(discordant: Callable) -> str:
    """`discordant(y, pred_a, pred_b)` returns (b, c): A right & B wrong, A wrong & B right."""
    for seed in range(3):
        y, a = _labels(seed)
        _, b_pred = _labels(seed + 10)
        b_pred = np.where(np.random.default_rng(seed).random(len(y)) < 0.5, y, b_pred)
        want = (int(((a == y) & (b_pred != y)).sum()), int(((a != y) & (b_pred == y)).sum()))
        got = discordant(y, a, b_pred)
        expect(tuple(int(v) for v in got) == want,
               "only the examples where exactly one model is right count; b = A right & B wrong")
    return passed("McNemar's discordant pairs")

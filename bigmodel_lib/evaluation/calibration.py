"""Calibration: does a model that says "90% sure" get 90% right?

- `reliability_bins`: per confidence bin, the mean confidence and the accuracy (diagram data);
- `expected_calibration_error`: Σ_b (n_b / N) · |acc_b − conf_b| over equal-width bins;
- `fit_temperature`: one scalar T > 0 fitted on *validation* logits to minimise NLL;
  dividing logits by T changes confidence but never the argmax, so accuracy is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _confidence_and_correct(probs, y_true) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true).astype(int)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"probs must be (N, K) with N = {len(y)} rows, got shape {p.shape}.")
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


@dataclass
class ReliabilityBins:
    edges: np.ndarray       # (n_bins + 1,) from 0 to 1
    confidence: np.ndarray  # (n_bins,) mean confidence in each bin (nan when empty)
    accuracy: np.ndarray    # (n_bins,) accuracy in each bin (nan when empty)
    count: np.ndarray       # (n_bins,) examples in each bin


def reliability_bins(probs, y_true, n_bins: int = 10) -> ReliabilityBins:
    """Bin the top-class confidence into `n_bins` equal-width bins (right-closed: (a, b])."""
    conf, correct = _confidence_and_correct(probs, y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=conf, minlength=n_bins)
    acc_sum = np.bincount(which, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ReliabilityBins(edges, conf_sum / count, acc_sum / count, count)


def expected_calibration_error(probs, y_true, n_bins: int = 10) -> float:
    """ECE: the count-weighted mean gap between accuracy and confidence over the bins."""
    b = reliability_bins(probs, y_true, n_bins)
    full = b.count > 0
    gaps = np.abs(b.accuracy[full] - b.confidence[full])
    return float(np.sum(b.count[full] * gaps) / b.count.sum())


def nll(logits, y_true, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the labels under softmax(logits / T)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    y = np.asarray(y_true).astype(int)
    return float(-log_probs[np.arange(len(y)), y].mean())


def fit_temperature(logits, y_true, bounds: tuple[float, float] = (0.05, 20.0), tol: float = 1e-6) -> float:
    """The temperature minimising validation NLL, by golden-section search on log T.

    NLL(T) is smooth in log T and, for the range that matters, unimodal; a 1-D search
    is exact enough and needs no gradient library. Fit on validation, never on test.
    """
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    golden = (np.sqrt(5) - 1) / 2
    a, b = lo + (1 - golden) * (hi - lo), lo + golden * (hi - lo)
    fa, fb = nll(logits, y_true, np.exp(a)), nll(logits, y_true, np.exp(b))
    while hi - lo > tol:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - golden) * (hi - lo)
            fa = nll(logits, y_true, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = nll(logits, y_true, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def binary_logits(p_positive) -> np.ndarray:
    """Two-column logits [0, logit(p)] whose softmax is [1 − p, p] (for binary scorers)."""
    p = np.clip(np.asarray(p_positive, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.stack([np.zeros_like(p), np.log(p) - np.log1p(-p)], axis=1)

"""How sure are we? Bootstrap confidence intervals and McNemar's test between two classifiers.

- `bootstrap_ci(metric, y_true, y_pred)`: resample the test set with replacement, recompute the
  metric, report the percentile interval (seeded, so a notebook re-run prints the same CI);
- `mcnemar(y_true, pred_a, pred_b)`: do A and B make different numbers of mistakes on the
  *same* examples? Only the discordant pairs matter (b: A right/B wrong, c: A wrong/B right);
  exact two-sided binomial test on b vs b + c, or chi-square with continuity correction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Interval:
    estimate: float
    low: float
    high: float
    level: float

    def __str__(self) -> str:
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}]"


def bootstrap_ci(metric: Callable, *arrays, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0) -> Interval:
    """Percentile bootstrap CI for `metric(*arrays)`; all arrays are resampled with the same rows."""
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("All arrays passed to bootstrap_ci must have the same length.")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}.")
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, n, size=n)
        stats[i] = metric(*(a[idx] for a in arrays))
    alpha = (1 - level) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return Interval(float(metric(*arrays)), float(low), float(high), level)


@dataclass
class McNemarResult:
    b: int              # A right, B wrong
    c: int              # A wrong, B right
    statistic: float    # exact: min(b, c); chi2: (|b − c| − 1)² / (b + c)
    pvalue: float
    method: str


def _binom_cdf(k: int, n: int) -> float:
    """P(X ≤ k) for X ~ Binomial(n, 1/2), exactly with integers."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


def _chi2_sf_1df(x: float) -> float:
    """Survival function of chi-square with one degree of freedom: erfc(√(x/2))."""
    return math.erfc(math.sqrt(x / 2)) if x > 0 else 1.0


def mcnemar(y_true, pred_a, pred_b, exact: bool = True) -> McNemarResult:
    """McNemar's test of "A and B have the same error rate" on paired predictions."""
    y, a, b_ = (np.asarray(v) for v in (y_true, pred_a, pred_b))
    if not (len(y) == len(a) == len(b_)):
        raise ValueError("y_true, pred_a and pred_b must have the same length.")
    right_a, right_b = a == y, b_ == y
    b = int(np.sum(right_a & ~right_b))
    c = int(np.sum(~right_a & right_b))
    return mcnemar_from_counts(b, c, exact=exact)


def mcnemar_from_counts(b: int, c: int, exact: bool = True) -> McNemarResult:
    n = b + c
    if exact:
        p = 1.0 if n == 0 else min(1.0, 2 * _binom_cdf(min(b, c), n))
        return McNemarResult(b, c, float(min(b, c)), p, "exact binomial")
    if n == 0:
        return McNemarResult(b, c, 0.0, 1.0, "chi-square (continuity corrected)")
    stat = (abs(b - c) - 1) ** 2 / n
    return McNemarResult(b, c, float(stat), _chi2_sf_1df(stat), "chi-square (continuity corrected)")

"""How close two correct floating-point computations of the same thing can be expected to be.

Two correct implementations of one formula rarely give bit-identical results: they add the same
terms in another order (blocked matrix products, a fused attention kernel, AVX-512 against AVX2
against plain C loops, one thread or two), and every addition rounds. So a from-scratch result is
compared with the reference library under a *bound derived from the arithmetic*, never one fitted
to the differences one machine happened to show:

- one rounding of a float32 value changes it by at most u = 2⁻²⁴ ≈ 6.0e-8 of itself (float64:
  2⁻⁵³ ≈ 1.1e-16);
- a result that collects N roundings (a sum of N terms, or a chain of layers whose sums add up to
  N terms) is off by at most N·u in the worst case, and, since rounding errors take both signs, by
  at most λ·√N·u except with probability about 2·exp(−λ²/2) per value (Higham & Mary, "A New
  Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 41(5), 2019). λ = 6
  keeps that probability below 1e-7;
- two implementations each make such an error, so their difference is at most twice that, relative
  to the magnitude of the values compared (in a normalised network the terms summed are of that
  order).

`roundoff_bound` computes that bound; `check_close` compares a measured difference with it and,
when it fails, says which quantity, by how much and against which bound; `check_matches` does both
for two arrays.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

LAMBDA = 6.0  # confidence of the probabilistic bound: exceeded with probability ≤ 2·exp(−18) ≈ 3e-8 per value


class CheckFailed(AssertionError):
    """A computed quantity is farther from its reference than its bound allows."""


def unit_roundoff(dtype: str | np.dtype = "float32") -> float:
    """u: the largest relative change one rounding makes (2⁻²⁴ for float32, 2⁻⁵³ for float64)."""
    name = str(dtype).replace("torch.", "")
    if name == "bfloat16":  # not a NumPy type: 8 significant bits
        return 2.0**-8
    return float(np.finfo(np.dtype(name)).eps) / 2


def roundoff_bound(terms: int, magnitude: float = 1.0, dtype: str | np.dtype = "float32") -> float:
    """The largest difference expected between two correct `dtype` computations that each round `terms` times.

    `terms`: the number of roundings on the way to one compared value, i.e. the lengths of the sums
    it passes through, added up over the layers (a dot product of 384 terms: 384; six layers of
    5,000 terms each: 30,000). `magnitude`: the size of the values compared (e.g. their largest
    absolute value). Returns 2 · λ · √terms · u · magnitude (see the module docstring).
    """
    if terms < 1:
        raise ValueError(f"terms must be a positive count of roundings, got {terms}")
    return 2 * LAMBDA * math.sqrt(terms) * unit_roundoff(dtype) * abs(magnitude)


def transformer_roundings(n_layer: int, n_embd: int, n_inner: int, head_dim: int, seq_len: int) -> int:
    """Roundings on the way from the embeddings to one output of a stack of Transformer blocks.

    Per block, along one path: the query/key/value product (n_embd terms), the score (head_dim),
    the softmax's sum and the weighted sum of values (seq_len each), the output projection
    (n_embd), the MLP's two products (n_embd, n_inner) and two normalisations (mean and variance:
    2 · n_embd each). The output head adds another n_embd.
    """
    per_block = 3 * n_embd + head_dim + 2 * seq_len + n_inner + 4 * n_embd
    return n_layer * per_block + n_embd


def max_abs_diff(actual, expected) -> float:
    """Largest absolute elementwise difference of two arrays or tensors (NumPy, PyTorch or TensorFlow)."""
    a, b = _as_float64(actual), _as_float64(expected)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(a - b).max()) if a.size else 0.0


def check_close(name: str, difference: float, bound: float) -> float:
    """Fail, naming `name`, its `difference` and its `bound`, unless difference ≤ bound; returns the difference.

    With `BIGMODEL_CHECK_LOG` set to a file path, every check appends one JSON line (name, difference,
    bound, CPU kernels, threads) to it: `benchmarks/check_margins.py` summarises such logs.
    """
    if os.environ.get("BIGMODEL_CHECK_LOG"):
        _log_check(os.environ["BIGMODEL_CHECK_LOG"], name, difference, bound)
    if not difference <= bound:  # also catches NaN
        raise CheckFailed(f"{name}: difference {difference:.3g} exceeds its bound {bound:.3g}")
    return difference


def check_matches(name: str, actual, expected, *, terms: int, magnitude: float | None = None,
                  dtype: str | np.dtype = "float32") -> float:
    """`check_close` of max |actual − expected| against `roundoff_bound(terms, magnitude, dtype)`.

    `magnitude` defaults to the largest |expected|. Returns the difference, for the learner to print.
    """
    if magnitude is None:
        magnitude = float(np.abs(_as_float64(expected)).max())
    return check_close(name, max_abs_diff(actual, expected), roundoff_bound(terms, magnitude, dtype))


def _log_check(path: str, name: str, difference: float, bound: float) -> None:
    row = {"name": name, "difference": float(difference), "bound": float(bound),
           "capability": os.environ.get("ATEN_CPU_CAPABILITY", "native"), "threads": os.environ.get("OMP_NUM_THREADS", "")}
    with open(path, "a", encoding="utf-8") as log:  # one short line per write: appends do not interleave
        log.write(json.dumps(row) + "\n")


def _as_float64(value) -> np.ndarray:
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu().double().numpy()
    elif hasattr(value, "numpy"):  # tensorflow
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)

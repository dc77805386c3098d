"""Checks for chapter 03's exercises (softmax regression)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..models.softmax import cross_entropy, numerical_gradient, relative_error, softmax
from . import expect, passed


def check_stable_softmax(stable_softmax: Callable[[np.ndarray], np.ndarray]) -> str:
    """Exercise 1: `stable_softmax(z)` along the last axis, for 1-D and 2-D inputs, without overflow."""
    rng = np.random.default_rng(0)
    cases = {
        "small logits": rng.normal(size=(4, 10)),
        "large logits": rng.normal(size=(4, 10)) * 5 + 1000.0,
        "very negative logits": rng.normal(size=(4, 10)) - 1000.0,
        "one row": rng.normal(size=10) * 300,
    }
    with np.errstate(all="ignore"):
        for name, z in cases.items():
            p = np.asarray(stable_softmax(z.copy()))
            expect(p.shape == z.shape, f"{name}: expected shape {z.shape}, got {p.shape}.")
            expect(np.all(np.isfinite(p)), f"{name}: got nan/inf. Subtract the row's maximum before exp.")
            expect(np.allclose(p.sum(axis=-1), 1.0, atol=1e-9), f"{name}: each row must sum to 1 (normalise along the last axis).")
            expect(np.allclose(p, softmax(z), atol=1e-9), f"{name}: values differ from softmax; subtract the max per row, keepdims=True.")
    return passed("stable softmax")


def check_one_example_gradient(gradient: Callable[[np.ndarray, int, np.ndarray, np.ndarray], tuple]) -> str:
    """Exercise 2: `gradient(x (D,), label, W (D, K), b (K,)) -> (dW (D, K), db (K,))` of -log p_label."""
    rng = np.random.default_rng(1)
    D, K = 6, 4
    x, W, b = rng.normal(size=D), rng.normal(size=(D, K)), rng.normal(size=K)
    label = 2

    def loss() -> float:
        return cross_entropy((x @ W + b)[None, :], np.array([label]))

    dW, db = (np.asarray(g, dtype=np.float64) for g in gradient(x.copy(), label, W.copy(), b.copy()))
    expect(dW.shape == (D, K), f"dW should have W's shape {(D, K)}, got {dW.shape}: it is the outer product x (p - y)ᵀ.")
    expect(db.shape == (K,), f"db should have shape {(K,)}, got {db.shape}.")
    expect(relative_error(db, numerical_gradient(loss, b)) < 1e-6, "db = p - onehot(label), with p = softmax(xᵀW + b).")
    expect(relative_error(dW, numerical_gradient(loss, W)) < 1e-6, "dW = np.outer(x, p - onehot(label)).")
    return passed("gradient for one example")


def check_stable_cross_entropy(cross_entropy_fn: Callable[[np.ndarray, np.ndarray], float]) -> str:
    """Exercise 3: mean cross-entropy from logits (N, K) and labels (N,), finite even for huge logits."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 5, size=8)
    for name, z in {"ordinary logits": rng.normal(size=(8, 5)), "huge logits": rng.normal(size=(8, 5)) * 800}.items():
        with np.errstate(all="ignore"):
            got = float(cross_entropy_fn(z.copy(), labels))
        expect(np.isfinite(got), f"{name}: got {got}. Use log p = z - logsumexp(z), never log(softmax(z)).")
        expect(abs(got - cross_entropy(z, labels)) < 1e-8 * max(1.0, abs(cross_entropy(z, labels))),
               f"{name}: off from the reference. Average -log p[label] over the rows.")
    return passed("stable cross-entropy")

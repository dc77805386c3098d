"""Checks for chapter 02's exercises (pretraining and fine-tuning)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import expect, passed


def _reference_mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(tokens.dtype)  # (B, T, 1)
    return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def check_mean_pool(mean_pool: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> str:
    """Exercise 1: `mean_pool(token_embeddings (B, T, C), attention_mask (B, T)) -> (B, C)`."""
    rng = np.random.default_rng(2)
    tokens = rng.normal(size=(3, 7, 5))
    mask = np.array([[1] * 7, [1] * 4 + [0] * 3, [1] * 2 + [0] * 5])
    tokens[mask == 0] += 100.0  # padding vectors that must not leak into the average
    out = np.asarray(mean_pool(tokens, mask))
    expect(out.shape == (3, 5), f"expected shape (B, C) = (3, 5), got {out.shape}: average over the token axis (axis 1).")
    expect(np.all(np.isfinite(out)), "the result has nan/inf: divide by the number of real tokens, not by a sum of zeros.")
    expect(
        np.allclose(out[0], tokens[0].mean(axis=0), atol=1e-6),
        "a sentence without padding should be the plain average of its token vectors.",
    )
    expect(
        np.allclose(out, _reference_mean_pool(tokens, mask), atol=1e-6),
        "padding positions (mask 0) must be left out of both the sum and the count.",
    )
    return passed("mean pooling over the attention mask")


def check_most_similar(most_similar: Callable[[np.ndarray, np.ndarray], int]) -> str:
    """Exercise 2: `most_similar(query (C,), candidates (N, C)) -> index of the highest cosine similarity`."""
    rng = np.random.default_rng(3)
    for trial in range(20):
        candidates = rng.normal(size=(12, 8)) * rng.uniform(0.1, 10.0, size=(12, 1))  # very different lengths
        query = rng.normal(size=8) * 3.0
        unit = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
        want = int(np.argmax(unit @ (query / np.linalg.norm(query))))
        got = most_similar(query, candidates)
        expect(np.ndim(got) == 0, f"return one index (an int), got {got!r}.")
        expect(
            int(got) == want,
            "cosine similarity ignores length: divide each vector by its norm before taking dot products "
            f"(trial {trial}: expected index {want}, got {int(got)}).",
        )
    return passed("most similar sentence by cosine similarity")

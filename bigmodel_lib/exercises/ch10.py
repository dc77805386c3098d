"""Checks for chapter 10's exercises: mel band centres, 4-bit block quantisation, mean reciprocal rank, CTC frames."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import expect, passed


def check_mel_band_centers(fn: Callable[[int, float, float], np.ndarray]) -> str:
    """Exercise 1: `fn(n_mels, fmin, fmax)` → the Hz centres of the mel filters (HTK scale)."""
    from ..data.audio import hz_to_mel, mel_to_hz

    for n, lo, hi in [(40, 20.0, 4000.0), (80, 0.0, 8000.0), (10, 300.0, 3400.0)]:
        want = mel_to_hz(np.linspace(hz_to_mel(lo), hz_to_mel(hi), n + 2)[1:-1])
        got = np.asarray(fn(n, lo, hi), dtype=float).reshape(-1)
        expect(len(got) == n, f"return one centre per band: {n} values for n_mels={n}, got {len(got)}.")
        evenly_hz = np.linspace(lo, hi, n + 2)[1:-1]
        expect(not np.allclose(got, evenly_hz, rtol=1e-3), "space the edges evenly in *mel*, not in Hz, then convert back.")
        expect(not np.allclose(got, np.linspace(lo, hi, n), rtol=1e-3), "there are n_mels + 2 edges; the centres are the inner ones.")
        expect(np.allclose(got, want, rtol=1e-4), "mel = 1127·ln(1 + f/700) and f = 700·(exp(mel/1127) − 1); "
               "take n_mels + 2 evenly spaced mel values from mel(fmin) to mel(fmax), drop the first and last.")
    return passed("exercise 1 (mel band centres)")


def check_q4_1(fn: Callable[[np.ndarray], np.ndarray]) -> str:
    """Exercise 2: `fn(w)` → w rounded through GGML Q4_1 blocks of 32 and back (1-D in, 1-D out)."""
    import torch

    from ..quantization import q4_1

    rng = np.random.default_rng(10)
    cases = [rng.standard_normal(32 * 8).astype(np.float32) * 0.05,
             rng.uniform(-3, 1, 32 * 4).astype(np.float32),
             np.concatenate([np.full(32, 0.25, np.float32), rng.standard_normal(32).astype(np.float32)])]
    for w in cases:
        want = q4_1(torch.from_numpy(w)).numpy()
        got = np.asarray(fn(w.copy()), dtype=np.float32).reshape(-1)
        expect(got.shape == w.shape, f"return as many values as you got ({w.size}), got {got.size}.")
        expect(np.isfinite(got).all(), "a block whose values are all equal has d = 0: avoid dividing by zero.")
        expect(len(np.unique(got[:32])) <= 16, "each block has 16 levels (4 bits): codes 0..15.")
        whole = (np.clip(np.round((w - w.min()) / ((w.max() - w.min()) / 15)), 0, 15) * (w.max() - w.min()) / 15 + w.min())
        expect(not np.allclose(got, whole, atol=1e-6) or np.allclose(whole, want, atol=1e-6),
               "use one scale and minimum per block of 32 values, not one for the whole tensor.")
        expect(np.allclose(got, want, atol=1e-5), "per block: d = (max−min)/15, q = floor((x−min)/d + 0.5) clipped "
               "to 0..15, value = q·d + min with d and min rounded to float16 first.")
    return passed("exercise 2 (Q4_1 round trip)")


def check_mrr(fn: Callable[[list, list], float]) -> str:
    """Exercise 3: `fn(retrieved, relevant)` → mean reciprocal rank."""
    from ..evaluation.retrieval import mean_reciprocal_rank

    cases = [
        ([["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]], [{"a"}, {"a"}, {"a"}]),
        ([["x", "y"], ["y", "x"]], [{"z"}, {"x", "y"}]),
        ([["p", "q", "r", "s"]], [{"s", "r"}]),
    ]
    for retrieved, relevant in cases:
        ranks = [next((r for r, label in enumerate(row, 1) if label in want), 0) for row, want in zip(retrieved, relevant, strict=True)]
        want_value = mean_reciprocal_rank(ranks)
        got = float(fn(retrieved, relevant))
        expect(got <= 1.0 + 1e-9, "a reciprocal rank is at most 1 (rank 1), so is their mean.")
        expect(abs(got - want_value) < 1e-9, "for each query find the 1-based rank of the FIRST relevant label "
               "(0 contribution if none), add 1/rank, divide by the number of queries.")
    return passed("exercise 3 (mean reciprocal rank)")


def check_min_ctc_frames(fn: Callable[[list[int]], int]) -> str:
    """Exercise 4: `fn(target)` → the fewest frames from which CTC can emit `target` (labels ≥ 1, blank 0).

    Checked against the CTC loss itself: with every symbol possible in every frame, the loss is
    finite from that many frames on and infinite with one frame fewer.
    """
    import torch

    from ..models.ctc import ctc_loss

    def possible(target: list[int], frames: int) -> bool:
        return bool(torch.isfinite(ctc_loss(torch.zeros(frames, 4, dtype=torch.float64), target)))

    for target in ([1, 2, 3], [1, 1], [2, 2, 2], [1, 2, 2, 1, 1], [3]):
        got = int(fn(list(target)))
        expect(got >= len(target), f"each label needs at least one frame: {target} needs ≥ {len(target)}, got {got}.")
        expect(possible(target, got), f"{got} frames cannot emit {target}: two equal labels in a row need a "
               "blank frame between them, or they would merge.")
        expect(got == 1 or not possible(target, got - 1), f"{target} fits in fewer than {got} frames: only equal "
               "neighbours need a blank between them.")
    return passed("exercise 4 (fewest frames for CTC)")

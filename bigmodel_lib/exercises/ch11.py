"""Checks for chapter 11's exercises: Adam's memory bill and the largest batch that fits."""

from __future__ import annotations

import math
from collections.abc import Callable

from .. import sizing
from . import expect, passed


def check_adam_state(fn: Callable[[float, str], float]) -> str:
    """Exercise 1: `fn(n_params, precision)` → GiB of weights + gradients + Adam states."""
    for n in (124e6, 7e9, 1.0e6):
        for precision in ("fp32", "mixed"):
            want = n * sum(sizing.BYTES_PER_PARAM_TRAINING[precision].values()) / sizing.GIB
            got = float(fn(n, precision))
            expect(not math.isclose(got, want * sizing.GIB / 1e9, rel_tol=1e-6), "GiB is 2**30 bytes, not 10**9.")
            expect(not math.isclose(got, want * 12 / 16, rel_tol=1e-6) or precision == "mixed",
                   "Adam keeps two moments per weight (8 bytes in fp32), not one.")
            if precision == "mixed":
                expect(not math.isclose(got, want * 12 / 16, rel_tol=1e-6),
                       "mixed precision still keeps an fp32 master copy of the weights (4 bytes) for the optimizer.")
            expect(math.isclose(got, want, rel_tol=1e-6),
                   f"for {precision}: count weights, gradients and the optimizer's state, in bytes per parameter, "
                   "then divide by 2**30.")
    return passed("exercise 1 (Adam's memory bill)")


def check_max_batch(fn: Callable[[object, int, float, str], int]) -> str:
    """Exercise 2: `fn(arch, seq_len, gpu_gib, precision)` → the largest batch whose estimate fits."""
    cases = [("GPT-2 small", 1024, 24, "mixed"), ("GPT-2 medium", 1024, 80, "mixed"), ("GPT-2 small", 512, 16, "fp32"),
             ("GPT-2 XL", 1024, 16, "mixed"), ("SmolLM2-135M", 2048, 40, "mixed")]
    for name, seq, gib, precision in cases:
        arch = sizing.MODELS[name]

        def fits(b, arch=arch, seq=seq, precision=precision, gib=gib):
            return sizing.training_memory(arch, seq, b, precision).total <= gib * sizing.GIB

        want = 0
        while fits(want + 1):
            want += 1
        got = int(fn(arch, seq, gib, precision))
        expect(got >= 0, "a batch size is never negative: return 0 when batch 1 does not fit.")
        expect(got <= want or not fits(got), f"{name}, {seq} tokens, {gib} GiB: batch {got} does not fit — "
               "weights, gradients and optimizer state take memory before the first activation.")
        expect(got == want, f"{name}, {seq} tokens, {gib} GiB: batch {got} is not the largest that fits; activations "
               "grow linearly with the batch, so subtract the fixed part and divide by one sample's activations.")
    return passed("exercise 2 (largest batch that fits)")

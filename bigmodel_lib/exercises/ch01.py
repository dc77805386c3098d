"""Checks for chapter 01's exercises: counting parameters, training compute, a compute-optimal model."""

from __future__ import annotations

import math
from collections.abc import Callable

from .. import sizing
from . import expect, passed

# Configs the learner's function has not seen in the chapter: (n_layer, n_head, n_embd, vocab_size, block_size).
_GPT_CASES = [(12, 12, 768, 50257, 1024), (6, 6, 384, 65, 256), (4, 4, 128, 1000, 64), (32, 32, 4096, 50304, 2048)]


def check_gpt_params(fn: Callable[[int, int, int, int, int], int]) -> str:
    """Exercise 1: `fn(n_layer, n_head, n_embd, vocab_size, block_size)` → parameters of a GPT-2-style model
    (biases everywhere, LM head tied to the token embedding)."""
    for n_layer, n_head, n_embd, vocab, block in _GPT_CASES:
        arch = sizing.GPTArch(n_layer=n_layer, n_head=n_head, n_embd=n_embd, vocab_size=vocab, block_size=block)
        want = sizing.gpt_parameter_count(arch)
        got = fn(n_layer, n_head, n_embd, vocab, block)
        expect(isinstance(got, int) or float(got).is_integer(), "a parameter count is a whole number.")
        if got == want - vocab * n_embd or got == want + vocab * n_embd:
            expect(False, "look at the LM head: with tied embeddings it reuses the token-embedding matrix.")
        expect(got != want - block * n_embd, "the learned position embeddings are parameters too (block_size × n_embd).")
        expect(
            int(got) == want,
            f"for n_layer={n_layer}, n_embd={n_embd} your count is off by {int(got) - want:+,d}. Count per block: "
            "two LayerNorms (weight+bias), c_attn (d→3d), attention c_proj (d→d), MLP c_fc (d→4d) and c_proj (4d→d), "
            "each Linear with a bias; then the final LayerNorm.",
        )
    return passed("exercise 1 (GPT parameter count)")


def check_training_gpu_days(fn: Callable[[float, float, float, float], float]) -> str:
    """Exercise 2: `fn(n_params, n_tokens, peak_flops, mfu)` → GPU-days to train with C ≈ 6·N·D."""
    cases = [(124e6, 10e9, 312e12, 0.4), (7e9, 2e12, 989e12, 0.5), (175e9, 300e9, 312e12, 0.3)]
    for n, d, peak, mfu in cases:
        want = sizing.training_cost(sizing.training_flops(n, d), peak_flops=peak, mfu=mfu).gpu_days
        got = float(fn(n, d, peak, mfu))
        expect(not math.isclose(got, want * 24, rel_tol=1e-6), "that is GPU-hours; the exercise asks for days.")
        expect(not math.isclose(got, want * 3, rel_tol=1e-6), "use 6·N·D (forward and backward), not 2·N·D.")
        expect(math.isclose(got, want, rel_tol=1e-6), "FLOPs = 6·N·D; seconds = FLOPs / (peak · MFU); then days.")
    return passed("exercise 2 (training GPU-days)")


def check_compute_optimal(fn: Callable[[float], tuple[float, float]]) -> str:
    """Exercise 3: `fn(compute_flops)` → Chinchilla compute-optimal (N, D) with D = 20·N and C = 6·N·D."""
    for c in (1e19, 5.76e23, 3.14e23):
        want_n, want_d = sizing.chinchilla_optimal(c)
        got_n, got_d = (float(x) for x in fn(c))
        expect(math.isclose(6 * got_n * got_d, c, rel_tol=1e-6), "your N and D must spend exactly the budget: 6·N·D = C.")
        expect(math.isclose(got_d / got_n, 20, rel_tol=1e-6), "Chinchilla's rule of thumb is about 20 tokens per parameter.")
        expect(math.isclose(got_n, want_n, rel_tol=1e-6) and math.isclose(got_d, want_d, rel_tol=1e-6),
               "substitute D = 20·N into C = 6·N·D and solve for N.")
    return passed("exercise 3 (compute-optimal N and D)")

"""Checks for chapter 07's exercises: the learning-rate schedule, MFU, ZeRO memory per GPU, gradient clipping."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..training.schedules import WarmupCosine
from . import expect, passed


def check_lr_schedule(fn: Callable[[int, float, int, int, float], float]) -> str:
    """Exercise 1: `fn(step, max_lr, warmup_steps, total_steps, min_lr)` → the learning rate at `step`
    (linear warm-up from 0, then cosine decay to min_lr at total_steps, min_lr after)."""
    for max_lr, warmup, total, min_lr in [(1e-3, 100, 2000, 1e-4), (6e-4, 10, 50, 0.0), (3e-3, 0, 30, 3e-4)]:
        schedule = WarmupCosine(warmup, total, min_lr / max_lr)
        for step in sorted({0, 1, warmup // 2, warmup, warmup + 1, (warmup + total) // 2, total - 1, total, total + 5}):
            got, want = float(fn(step, max_lr, warmup, total, min_lr)), max_lr * schedule(step)
            if step < warmup:
                expect(math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12),
                       f"during warm-up (step {step} of {warmup}) the rate grows linearly from 0 to max_lr.")
            elif step >= total:
                expect(math.isclose(got, min_lr, rel_tol=1e-6, abs_tol=1e-12), "after total_steps the rate stays at min_lr.")
            else:
                expect(math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12),
                       f"at step {step} the cosine part is off: progress = (step - warmup) / (total - warmup), "
                       "lr = min_lr + (max_lr - min_lr) · ½(1 + cos(π · progress)).")
    return passed("exercise 1 (warm-up + cosine schedule)")


def check_mfu(fn: Callable[[float, int, int, int, int, float], float]) -> str:
    """Exercise 2: `fn(tokens_per_s, n_params, n_layer, n_embd, seq_len, peak_flops)` → model FLOPs utilisation,
    with training FLOPs per token = 6·N + 12·L·C·T."""
    for tps, n, layers, c, t, peak in [(20_000, 800_000, 4, 128, 64, 1e11), (1e5, 124e6, 12, 768, 1024, 312e12)]:
        want = tps * (6 * n + 12 * layers * c * t) / peak
        got = float(fn(tps, n, layers, c, t, peak))
        expect(not math.isclose(got, tps * 6 * n / peak, rel_tol=1e-9), "add the attention term 12·L·C·T per token.")
        expect(not math.isclose(got, tps * 2 * n / peak, rel_tol=0.2), "training costs 6N per token (forward 2N + backward 4N).")
        expect(math.isclose(got, want, rel_tol=1e-6), "MFU = achieved model FLOP/s ÷ peak FLOP/s.")
    return passed("exercise 2 (MFU)")


def check_zero_memory(fn: Callable[[float, int, int], float]) -> str:
    """Exercise 3: `fn(n_params, n_gpus, stage)` → bytes per GPU for weights, gradients and Adam states in mixed
    precision (2 + 2 + 12 bytes per parameter), with ZeRO stage 0 (plain DDP), 1, 2 or 3."""
    for n, gpus in [(7e9, 8), (1.5e9, 4), (70e9, 64)]:
        wants = {0: 16 * n, 1: 4 * n + 12 * n / gpus, 2: 2 * n + 14 * n / gpus, 3: 16 * n / gpus}
        for stage, want in wants.items():
            got = float(fn(n, gpus, stage))
            expect(math.isclose(got, want, rel_tol=1e-6),
                   f"stage {stage}: which of weights (2 B), gradients (2 B) and optimizer states (12 B: fp32 master "
                   "copy + two Adam moments) are split across the GPUs? Stage 1 splits the optimizer states, "
                   "2 also the gradients, 3 also the weights.")
    return passed("exercise 3 (ZeRO memory per GPU)")


def check_clip_global_norm(fn: Callable) -> str:
    """Exercise 4: `fn(grads, max_norm)` → (clipped gradients, norm before clipping), the norm taken over all
    tensors together, as `torch.nn.utils.clip_grad_norm_` does."""
    import torch

    from ..numerics import roundoff_bound

    generator = torch.Generator().manual_seed(7)
    for max_norm, scale in [(1.0, 3.0), (1.0, 0.01), (0.5, 1.0)]:
        grads = [scale * torch.randn(shape, generator=generator) for shape in [(4, 3), (5,), (2, 2, 2)]]
        reference = [g.clone().requires_grad_() for g in grads]
        for p, g in zip(reference, grads, strict=True):
            p.grad = g.clone()
        want_norm = float(torch.nn.utils.clip_grad_norm_(reference, max_norm))
        clipped, norm = fn([g.clone() for g in grads], max_norm)
        terms = sum(g.numel() for g in grads)
        per_tensor = max(float(torch.linalg.vector_norm(g)) for g in grads)
        expect(not math.isclose(float(norm), per_tensor, rel_tol=1e-6),
               "the norm is over all gradients together: √(Σ over every tensor of Σ g²), not one tensor's norm.")
        # float32 round-off of one sum of squares over every entry
        expect(abs(float(norm) - want_norm) <= roundoff_bound(terms, magnitude=want_norm),
               "return the norm before clipping: √(Σ g²) over every entry of every gradient.")
        for got, p in zip(clipped, reference, strict=True):
            expect(tuple(got.shape) == tuple(p.grad.shape), "return the gradients in their own shapes and order.")
            expect(float((got - p.grad).abs().max()) <= roundoff_bound(terms, magnitude=float(p.grad.abs().max())),
                   f"with max_norm {max_norm}: above the bound, scale every gradient by max_norm / norm (one factor "
                   "for all); at or below it, leave them as they are.")
    return passed("exercise 4 (clipping by the global norm)")

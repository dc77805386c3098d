"""How fast does training run, and how close to the hardware's peak? (MFU)

- `peak_matmul_flops`: time a large square matmul, FLOPs = 2·n³ per product. This is the
  machine's *achievable* peak for a dtype, the denominator of model FLOPs utilisation.
- `measure_training`: run the trainer for a few steps and report tokens/s and
  MFU = tokens/s × FLOPs per token / peak, with FLOPs per token = 6N + 12·L·C·T
  (`GPT.flops_per_token`: forward + backward through the weights, plus attention scores).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext

import torch

from ..device import synchronize

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _best_matmul_seconds(a: torch.Tensor, b: torch.Tensor, device: torch.device, seconds: float, context) -> float:
    with context:
        for _ in range(2):  # warm-up (kernel selection, caches)
            a @ b
        synchronize(device)
        best, spent = float("inf"), 0.0
        while spent < seconds:
            start = time.perf_counter()
            a @ b
            synchronize(device)
            elapsed = time.perf_counter() - start
            best, spent = min(best, elapsed), spent + elapsed
    return best


def peak_matmul_flops(dtype: str = "fp32", device: torch.device | str = "cpu", n: int | None = None,
                      seconds: float = 1.0) -> float:
    """Measured FLOP/s of an n×n @ n×n matmul in `dtype` (best of repeated timings).

    For bf16/fp16 the faster of two ways is taken: tensors stored in that dtype, and fp32 tensors under
    `torch.autocast` (the path training takes). On a CPU without bf16 units the first can be a slow
    fallback kernel while autocast's is fast; a peak from the slow one is below what training reaches,
    and MFU came out above 100 %.
    """
    from .trainer import autocast_context

    device = torch.device(device)
    n = n or (8192 if device.type == "cuda" else 512)
    a32, b32 = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = _best_matmul_seconds(a32.to(DTYPES[dtype]), b32.to(DTYPES[dtype]), device, seconds, nullcontext())
    if dtype != "fp32":
        best = min(best, _best_matmul_seconds(a32, b32, device, seconds, autocast_context(device, dtype)))
    return 2 * n**3 / best


def measure_training(make_model: Callable[[], torch.nn.Module], data, *, batch_size: int, steps: int,
                     precision: str = "fp32", compile: bool = False, device: torch.device | str = "cpu",
                     peak_flops: float | None = None, warmup_steps: int = 1) -> dict:
    """Tokens/s (and MFU if `peak_flops` is given) of the trainer, after `warmup_steps` untimed steps.

    The trainer reads the loss back only at log points: here after the first step and the last, so the timed steps
    run as in a long training, without a sync each.
    """
    from .trainer import TrainConfig, Trainer

    device = torch.device(device)
    model = make_model()
    config = TrainConfig(max_steps=steps + warmup_steps, batch_size=batch_size, precision=precision,
                         compile=compile, eval_every=0, eval_batches=1, progress=False, warmup_steps=1,
                         log_every=steps + warmup_steps)
    start = time.perf_counter()
    result = Trainer(model, data, config, device=device).fit()
    timed = result.history[warmup_steps:]
    tokens, seconds = sum(r["tokens"] for r in timed), sum(r["seconds"] for r in timed)
    tokens_per_s = tokens / seconds
    flops_per_token = model.flops_per_token() if hasattr(model, "flops_per_token") else float("nan")
    row = {"precision": precision, "compile": compile, "tokens_per_s": tokens_per_s,
           "model_flops_per_s": tokens_per_s * flops_per_token,
           "first_steps_s": sum(r["seconds"] for r in result.history[:warmup_steps]),
           "wall_s": time.perf_counter() - start}
    if peak_flops:
        row["mfu"] = row["model_flops_per_s"] / peak_flops
    return row


def trainer_overhead(make_model: Callable[[], torch.nn.Module], data, *, batch_size: int, steps: int,
                     device: torch.device | str = "cpu", repeats: int = 2) -> dict:
    """Tokens/s of `Trainer.fit` against a minimal loop calling the same `train_step` on the same model.

    The difference is the trainer's own cost (bookkeeping, logging, progress bar). Runs alternate and the
    best of `repeats` is kept, so a burst of load on a shared machine hits both sides alike.
    """
    from .schedules import WarmupCosine
    from .trainer import TrainConfig, Trainer, make_optimizer, train_step

    device = torch.device(device)

    def minimal() -> float:
        model = make_model().to(device).train()
        optimizer = make_optimizer(model, 1e-3, 0.1, device_type=device.type)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(1, steps + 1))
        scaler = torch.amp.GradScaler(device.type, enabled=False)
        train_step(model, optimizer, scheduler, scaler, [data.get_batch("train", batch_size)])  # warm-up step
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            loss, _ = train_step(model, optimizer, scheduler, scaler, [data.get_batch("train", batch_size)])
        loss.item()
        return steps * batch_size * data.block_size / (time.perf_counter() - start)

    def trainer() -> float:
        config = TrainConfig(max_steps=steps + 1, batch_size=batch_size, lr=1e-3, warmup_steps=1, eval_every=0,
                             eval_batches=1, progress=True, desc="trainer")
        return Trainer(make_model(), data, config, device=device).fit().tokens_per_s

    loop_best, trainer_best = 0.0, 0.0
    for _ in range(repeats):
        loop_best = max(loop_best, minimal())
        trainer_best = max(trainer_best, trainer())
    return {"minimal_loop_tokens_per_s": loop_best, "trainer_tokens_per_s": trainer_best,
            "trainer_overhead": 1 - trainer_best / loop_best}


def step_seconds(trainer) -> float:
    """Wall seconds of one `trainer.run_step()` (the device waited for)."""
    start = time.perf_counter()
    trainer.run_step()
    synchronize(trainer.device)
    return time.perf_counter() - start


def step_time_ratio(trainer, reference, pairs: int = 12, warmup: int = 3) -> float:
    """`trainer`'s time per step over `reference`'s: the median ratio of steps taken alternately, so that a
    busy moment on a shared machine slows both alike. Both trainers' models are trained by this: pass
    throw-away copies."""
    for _ in range(warmup):  # allocator, first-call costs
        step_seconds(trainer), step_seconds(reference)
    return statistics.median(step_seconds(trainer) / step_seconds(reference) for _ in range(pairs))

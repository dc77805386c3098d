"""How fast does training run, and how close to the hardware's peak? (MFU)

- `peak_matmul_flops`: time a large square matmul, FLOPs = 2·n³ per product. This is the
  machine's *achievable* peak for a dtype, the denominator of model FLOPs utilisation.
- `measure_training`: run the trainer for a few steps and report tokens/s and
  MFU = tokens/s × FLOPs per token / peak, with FLOPs per token = 6N + 12·L·C·T
  (`GPT.flops_per_token`: forward + backward through the weights, plus attention scores).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def peak_matmul_flops(dtype: str = "fp32", device: torch.device | str = "cpu", n: int | None = None,
                      seconds: float = 1.0) -> float:
    """Measured FLOP/s of an n×n @ n×n matmul in `dtype` (best of repeated timings)."""
    device = torch.device(device)
    n = n or (8192 if device.type == "cuda" else 512)
    a = torch.randn(n, n, device=device).to(DTYPES[dtype])
    b = torch.randn(n, n, device=device).to(DTYPES[dtype])
    for _ in range(1):  # warm-up (kernel selection, caches)
        a @ b
    _sync(device)
    best, spent = float("inf"), 0.0
    while spent < seconds:
        start = time.perf_counter()
        a @ b
        _sync(device)
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2 * n**3 / best


def measure_training(make_model: Callable[[], torch.nn.Module], data, *, batch_size: int, steps: int,
                     precision: str = "fp32", compile: bool = False, device: torch.device | str = "cpu",
                     peak_flops: float | None = None, warmup_steps: int = 2) -> dict:
    """Tokens/s (and MFU if `peak_flops` is given) of the trainer, after `warmup_steps` untimed steps."""
    from .trainer import TrainConfig, Trainer

    device = torch.device(device)
    model = make_model()
    config = TrainConfig(max_steps=steps + warmup_steps, batch_size=batch_size, precision=precision,
                         compile=compile, eval_every=0, eval_batches=1, progress=False, warmup_steps=1)
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

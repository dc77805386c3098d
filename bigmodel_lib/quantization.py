"""Weight quantisation from scratch: what 8-bit and 4-bit storage saves and what it costs.

GGML's block formats (the ones inside GGUF files such as SmolLM2's) quantise each run of 32
weights with its own scale:

- `Q8_0`: d = max|x| / 127, q = round(x / d) ∈ [-127, 127]; 32 int8 + one fp16 d = 8.5 bits/weight.
- `Q4_1`: d = (max - min) / 15, m = min, q = ⌊(x - m) / d + ½⌋ ∈ [0, 15]; 32 nibbles + fp16 d, m
  = 5 bits/weight.

`fake_quantize` rounds a tensor through a format and back (what the model computes with after
de-quantising), matching the `gguf` package's reference code bit for bit.
`quantize_model_weights` does this to every matrix of a model, so the logit error and loss of
4-bit weights can be measured on any model we have in full precision.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

BLOCK = 32
BITS_PER_WEIGHT = {"fp32": 32.0, "bf16": 16.0, "fp16": 16.0, "int8": 8.0, "q8_0": 8.5, "q4_1": 5.0, "int4": 4.0}


def _blocks(w: torch.Tensor) -> torch.Tensor:
    if w.shape[-1] % BLOCK:
        raise ValueError(f"the last dimension ({w.shape[-1]}) must be a multiple of the block size {BLOCK}.")
    return w.detach().float().reshape(-1, BLOCK)  # (n_blocks, 32)


def _fp16(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.float16).float()  # scales are stored in half precision


def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.floor(x.abs() + 0.5)  # C's roundf, as ggml uses


def q8_0(w: torch.Tensor) -> torch.Tensor:
    """Round `w` through GGML Q8_0 (blocks of 32 along the last dim) and back."""
    b = _blocks(w)
    d = b.abs().amax(dim=1, keepdim=True) / 127  # (n_blocks, 1)
    inv = torch.where(d == 0, torch.zeros_like(d), 1 / d)
    q = _round_half_away(b * inv)  # (n_blocks, 32) in [-127, 127]
    return (q * _fp16(d)).reshape(w.shape).to(w.dtype)


def q4_1(w: torch.Tensor) -> torch.Tensor:
    """Round `w` through GGML Q4_1 (16 levels between each block's min and max) and back."""
    b = _blocks(w)
    lo, hi = b.amin(dim=1, keepdim=True), b.amax(dim=1, keepdim=True)
    d = (hi - lo) / 15
    inv = torch.where(d == 0, torch.zeros_like(d), 1 / d)
    q = torch.trunc((b - lo) * inv + 0.5).clamp(0, 15)  # (n_blocks, 32) in [0, 15]
    return (q * _fp16(d) + _fp16(lo)).reshape(w.shape).to(w.dtype)


def int8_per_channel(w: torch.Tensor) -> torch.Tensor:
    """Symmetric int8 with one scale per output row (what PyTorch's dynamic quantisation stores)."""
    wf = w.detach().float()
    scale = wf.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127.5  # (out, 1)
    q = torch.round(wf * (1.0 / scale)).clamp(-128, 127)  # multiply by the inverse, as torch's kernels do
    return (q * scale).to(w.dtype)


def bf16(w: torch.Tensor) -> torch.Tensor:
    return w.detach().to(torch.bfloat16).to(w.dtype)


SCHEMES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"bf16": bf16, "q8_0": q8_0, "q4_1": q4_1}


def fake_quantize(w: torch.Tensor, scheme: str) -> torch.Tensor:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}.")
    return SCHEMES[scheme](w)


@torch.no_grad()
def quantize_model_weights(model: nn.Module, scheme: str, min_numel: int = 1024) -> nn.Module:
    """A copy of `model` whose every matrix (Linear, Embedding: dim 2, ≥ min_numel values, last
    dim a multiple of 32) is rounded through `scheme`; norms and biases stay fp32, as in GGUF."""
    out = copy.deepcopy(model)
    for p in out.parameters():
        if p.dim() == 2 and p.numel() >= min_numel and p.shape[-1] % BLOCK == 0:
            p.copy_(fake_quantize(p, scheme))
    return out


def checkpoint_bytes(n_params: float, scheme: str) -> float:
    """Bytes to store `n_params` weights in a format of BITS_PER_WEIGHT[scheme]."""
    return n_params * BITS_PER_WEIGHT[scheme] / 8


def saved_bytes(model: nn.Module) -> int:
    """Size of `torch.save(model.state_dict())`: what a checkpoint of the model takes on disk."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def median_seconds(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn()` over `repeat` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

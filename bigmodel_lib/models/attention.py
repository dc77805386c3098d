"""The Transformer's parts, written from scratch in PyTorch.

Scaled dot-product attention with a causal mask, multi-head self-attention (GPT-2 parameter
names: one fused `c_attn` projection for q, k, v and an output `c_proj`), positional
encodings (learned, sinusoidal, rotary), LayerNorm and RMSNorm, and GELU in its exact and
tanh forms. Each piece is checked against the reference implementation in
`tests/test_attention.py` (`torch.nn.functional.scaled_dot_product_attention`,
`torch.nn.LayerNorm`, `torch.nn.RMSNorm`, `torch.nn.functional.gelu`, transformers'
rotary embedding, `keras.layers.MultiHeadAttention`).

Shapes: B batch, T sequence length (queries), S key length, C model width (n_embd),
H heads, D = C // H head width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- attention


def causal_mask(t_query: int, t_key: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean (T, S) mask, True where a query may look at a key.

    With S > T (a KV cache holding S - T earlier positions) query i sits at absolute position
    S - T + i and sees keys 0 ... S - T + i: the mask is aligned bottom-right.
    """
    t_key = t_query if t_key is None else t_key
    if t_key < t_query:
        raise ValueError(f"causal_mask needs at least as many keys as queries, got T={t_query}, S={t_key}")
    return torch.ones(t_query, t_key, dtype=torch.bool, device=device).tril(diagonal=t_key - t_query)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
    return_weights: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √D + mask) v, from scratch.

    q: (..., T, D), k: (..., S, D), v: (..., S, Dv). `mask` is boolean (True = keep) or
    additive float, broadcastable to (..., T, S). `is_causal` adds a bottom-right causal mask.
    Returns (..., T, Dv), and the attention weights (..., T, S) when `return_weights`.
    """
    scale = 1.0 / math.sqrt(q.size(-1))  # keeps the scores' variance near 1 whatever D
    scores = (q @ k.transpose(-2, -1)) * scale  # (..., T, S): query i against key j
    if is_causal:
        keep = causal_mask(q.size(-2), k.size(-2), device=q.device)
        scores = scores.masked_fill(~keep, float("-inf"))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    weights = torch.softmax(scores, dim=-1)  # (..., T, S), rows sum to 1
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    out = weights @ v  # (..., T, Dv)
    return (out, weights) if return_weights else out


def split_heads(x: torch.Tensor, n_head: int) -> torch.Tensor:
    """(B, T, C) -> (B, H, T, D)."""
    b, t, c = x.shape
    if c % n_head:
        raise ValueError(f"width {c} is not divisible by n_head={n_head}")
    return x.view(b, t, n_head, c // n_head).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, D) -> (B, T, C)."""
    b, h, t, d = x.shape
    return x.transpose(1, 2).contiguous().view(b, t, h * d)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, mask: torch.Tensor | None = None,
              causal: bool = False, use_sdpa: bool = True, dropout_p: float = 0.0) -> torch.Tensor:
    """Attention of q (B, H, T, D) over k, v (B, H, S, D) -> (B, H, T, D), in one of two variants.

    `use_sdpa=True`: PyTorch's fused kernel; False: our written-out `scaled_dot_product_attention`
    (the same numbers up to rounding, and visible to FLOP counters). `causal` aligns the mask
    bottom-right, so the T queries are the last T of S positions (S > T behind a KV cache);
    `mask` is boolean (True = keep) or additive, broadcastable to (B, H, T, S).
    """
    t_query, t_key = q.size(-2), k.size(-2)
    causal = causal and t_query > 1  # one newest query may see every key
    if not use_sdpa:
        return scaled_dot_product_attention(q, k, v, mask=mask, is_causal=causal, dropout_p=dropout_p)
    if causal and (t_key != t_query or mask is not None):  # the kernel's is_causal aligns top-left
        keep = causal_mask(t_query, t_key, device=q.device)
        if mask is not None:
            keep = keep & mask if mask.dtype == torch.bool else torch.where(keep, mask, float("-inf"))
        mask, causal = keep, False
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=causal)


def set_use_sdpa(model: nn.Module, use_sdpa: bool) -> nn.Module:
    """Switch every attention layer of `model` (GPT, BERT or Llama) to the fused kernel or to the
    written-out attention; returns `model`."""
    for module in model.modules():
        if hasattr(module, "use_sdpa"):
            module.use_sdpa = use_sdpa
    return model


def set_fused(model: nn.Module, fused: bool) -> nn.Module:
    """Switch every attention, norm and GELU of `model` between PyTorch's fused kernels (fast, the
    default) and the written-out formulas the chapters build (same numbers up to rounding, checked in
    tests/test_fused_kernels.py); returns `model`."""
    set_use_sdpa(model, fused)
    for module in model.modules():
        if hasattr(module, "fused"):
            module.fused = fused
    return model


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with GPT-2's parameter names.

    `c_attn` projects x to q, k, v at once (C -> 3C), heads attend independently, `c_proj`
    mixes the heads back (C -> C). `causal=True` gives the decoder's masked attention.
    `use_sdpa` switches between PyTorch's fused kernel and our from-scratch function (same
    numbers, see the tests). `forward(x, cache)` accepts a `LayerKVCache` for generation.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True, causal: bool = True) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd={n_embd} must be divisible by n_head={n_head}")
        self.n_embd, self.n_head, self.causal = n_embd, n_head, causal
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)
        self.use_sdpa = True
        self.last_weights: torch.Tensor | None = None  # filled when record_weights is set
        self.record_weights = False

    def forward(self, x: torch.Tensor, cache: LayerKVCache | None = None) -> torch.Tensor:
        B, T, C = x.shape  # noqa: N806
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # each (B, T, C)
        q, k, v = (split_heads(z, self.n_head) for z in (q, k, v))  # each (B, H, T, D)
        if cache is not None:
            k, v = cache.append(k, v)  # (B, H, S, D) with S = earlier + T
        p = self.dropout if self.training else 0.0
        if self.record_weights:  # our function above, which also returns the weights
            # (one new query behind a cache may see every key: no mask)
            y, w = scaled_dot_product_attention(q, k, v, is_causal=self.causal and T > 1, dropout_p=p,
                                                return_weights=True)
            self.last_weights = w.detach()
        else:  # PyTorch's fused kernel or our function (use_sdpa), the mask aligned behind cached keys
            y = attention(q, k, v, causal=self.causal, use_sdpa=self.use_sdpa, dropout_p=p)
        y = merge_heads(y)  # (B, H, T, D) -> (B, T, C)
        return self.resid_dropout(self.c_proj(y))  # mix the heads: (B, T, C)


class LayerKVCache:
    """Keys and values one attention layer has already computed, grown by concatenation."""

    def __init__(self) -> None:
        self.k: torch.Tensor | None = None  # (B, H, S, D)
        self.v: torch.Tensor | None = None

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.k = k if self.k is None else torch.cat([self.k, k], dim=2)
        self.v = v if self.v is None else torch.cat([self.v, v], dim=2)
        return self.k, self.v

    @property
    def length(self) -> int:
        return 0 if self.k is None else self.k.size(2)


class KVCache:
    """One `LayerKVCache` per block; `length` is how many positions are cached."""

    def __init__(self, n_layer: int) -> None:
        self.layers = [LayerKVCache() for _ in range(n_layer)]

    @property
    def length(self) -> int:
        return self.layers[0].length

    def nbytes(self) -> int:
        return sum(c.k.nelement() * c.k.element_size() * 2 for c in self.layers if c.k is not None)


# ---------------------------------------------------------------- positional encodings


class LearnedPositionalEmbedding(nn.Embedding):
    """GPT-2's `wpe`: one trained vector per position 0 ... block_size - 1."""

    def __init__(self, block_size: int, n_embd: int) -> None:
        super().__init__(block_size, n_embd)

    def forward(self, positions: torch.Tensor) -> torch.Tensor:  # (T,) -> (T, C)
        if positions.numel() and int(positions.max()) >= self.num_embeddings:
            raise ValueError(f"position {int(positions.max())} is beyond block_size={self.num_embeddings}")
        return super().forward(positions)


def sinusoidal_positions(n_positions: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The original Transformer's fixed encoding, (T, C): sin on even, cos on odd columns.

    PE[p, 2i] = sin(p / base^(2i/C)), PE[p, 2i+1] = cos(p / base^(2i/C)).
    """
    if dim % 2:
        raise ValueError(f"sinusoidal encoding needs an even width, got {dim}")
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]  # (T, 1)
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # (C/2,)
    angles = position * inv_freq  # (T, C/2)
    pe = torch.zeros(n_positions, dim)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe


def rope_cos_sin(head_dim: int, positions: torch.Tensor, theta: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotation angles for positions (T,): cos and sin of shape (T, D).

    Pair i of a head (channels i and i + D/2, Llama's 'rotate half' layout) turns by the angle
    position · theta^(-2i/D).
    """
    if head_dim % 2:
        raise ValueError(f"rotary embeddings need an even head width, got {head_dim}")
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    angles = positions.float()[:, None] * inv_freq[None, :]  # (T, D/2)
    angles = torch.cat([angles, angles], dim=-1)  # (T, D): same angle for i and i + D/2
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last axis."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate queries or keys x (B, heads, T, D) by their positions' angles (cos, sin: (T, D)).

    The dot product of a query rotated for position m and a key rotated for position n depends
    only on m - n: attention sees relative positions, with no parameters.
    """
    return (x * cos + rotate_half(x) * sin).to(x.dtype)


# ---------------------------------------------------------------- norms and activations


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT): (x - mean) / √(var + eps) · weight + bias.

    `fused=True` (the default) calls PyTorch's one-kernel `F.layer_norm`; False runs the formula below.
    """

    def __init__(self, ndim: int, bias: bool = True, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None
        self.eps = eps
        self.fused = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, unbiased=False)
        y = (x - mean) * torch.rsqrt(var + self.eps) * self.weight
        return y if self.bias is None else y + self.bias


class RMSNorm(nn.Module):
    """RMSNorm (Llama): x / √(mean(x²) + eps) · weight; no centring, no bias.

    The statistics are taken in float32 even when the model runs in half precision. `eps` has no
    default: models differ (Llama checkpoints store theirs in the config).
    """

    def __init__(self, ndim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.eps = eps
        self.fused = True  # PyTorch's F.rms_norm; False: the formula written out

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., C) -> (..., C)
        x32 = x.float()
        if self.fused:
            x32 = F.rms_norm(x32, self.weight.shape, eps=self.eps)
        else:
            x32 = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def gelu_exact(x: torch.Tensor) -> torch.Tensor:
    """GELU(x) = x · Φ(x), Φ the standard normal CDF."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GPT-2's tanh approximation of GELU."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


# ---------------------------------------------------------------- measuring attention


def attention_cost(
    seq_lens: list[int],
    n_head: int = 8,
    head_dim: int = 64,
    batch: int = 1,
    repeats: int = 3,
    device: torch.device | str = "cpu",
    fused: bool = False,
    measure_memory: bool = True,
) -> list[dict]:
    """Measure one causal attention call for each sequence length T.

    `fused=False` runs our from-scratch function (it materialises the (B, H, T, T) scores);
    `fused=True` runs PyTorch's kernel. Returns rows with `T`, `seconds` (best of `repeats`),
    `flops` (4·B·H·T²·D for QKᵀ and AV), `score_bytes` (the size of one T×T score tensor) and,
    with `measure_memory`, `memory_bytes`: the peak memory above the inputs on CUDA, or on
    CPU the bytes the call allocated in total, as seen by `torch.profiler`.
    """
    import time

    device = torch.device(device)
    attend = F.scaled_dot_product_attention if fused else scaled_dot_product_attention
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []
    for t in seq_lens:
        q, k, v = (torch.randn(batch, n_head, t, head_dim, device=device) for _ in range(3))
        attend(q, k, v, is_causal=True)  # warm-up
        best = float("inf")
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            attend(q, k, v, is_causal=True)
            sync()
            best = min(best, time.perf_counter() - start)
        row = {"T": t, "seconds": best, "flops": 4 * batch * n_head * t * t * head_dim,
               "score_bytes": batch * n_head * t * t * q.element_size()}
        if measure_memory:
            row["memory_bytes"] = _call_memory(attend, (q, k, v), device)
        rows.append(row)
    return rows


def _call_memory(attend, qkv: tuple[torch.Tensor, ...], device: torch.device) -> int:
    fn = lambda: attend(*qkv, is_causal=True)  # noqa: E731
    if device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from torch.profiler import ProfilerActivity, profile

    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return int(sum(max(e.self_cpu_memory_usage, 0) for e in prof.key_averages()))


class _quiet_stderr:  # noqa: N801
    """Silence the profiler's C++ start/stop lines, written straight to file descriptor 2."""

    def __enter__(self):
        import os
        import sys

        sys.stderr.flush()
        self.saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        import os

        os.dup2(self.saved, 2)
        os.close(self.saved)

"""Checks for chapter 05b's exercises: RMSNorm, the KV-cache size, and a Llama's parameter count."""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import expect, passed


def check_rms_norm(rms_norm: Callable) -> str:
    """`rms_norm(x, weight, eps)` must equal the library's RMSNorm on any shape (..., C)."""
    from ..models.attention import RMSNorm

    g = torch.Generator().manual_seed(5)
    for shape in [(7,), (2, 3, 16), (4, 576)]:
        x = torch.randn(*shape, generator=g) * 3 + 1
        norm = RMSNorm(shape[-1], eps=1e-5)
        with torch.no_grad():
            norm.weight.copy_(torch.rand(shape[-1], generator=g) + 0.5)
            got = rms_norm(x, norm.weight.detach().clone(), 1e-5)
            want = norm(x)
        expect(isinstance(got, torch.Tensor) and got.shape == want.shape, f"return a tensor of shape {tuple(want.shape)}.")
        expect(
            torch.allclose(got, want, atol=1e-5),
            "divide by the root of the mean of the squares over the last dimension (keepdim), "
            "add eps inside the root, then scale by weight. No mean subtraction, no bias.",
        )
    return passed("rms_norm")


def check_kv_cache_bytes(kv_cache_bytes: Callable) -> str:
    """`kv_cache_bytes(config, context, bytes_per_value)` must equal what a real KVCache holds."""
    from ..models.attention import KVCache
    from ..models.llama import Llama, LlamaConfig

    tiny = LlamaConfig(vocab_size=50, n_layer=3, n_head=4, n_kv_head=2, n_embd=32, n_inner=48, max_seq_len=64)
    model = Llama(tiny).eval()
    cache = KVCache(tiny.n_layer)
    with torch.no_grad():
        model(torch.randint(0, 50, (1, 11)), cache=cache)
    got = kv_cache_bytes(tiny, 11, 4)
    expect(
        got == cache.nbytes(),
        f"a tiny model's cache holds {cache.nbytes()} bytes after 11 tokens in fp32; count keys AND values, "
        "for every layer, for the n_kv_head heads (not n_head) of head_dim numbers each.",
    )
    smol = LlamaConfig()
    expect(
        kv_cache_bytes(smol, 8192, 2) == 2 * smol.n_layer * smol.n_kv_head * smol.head_dim * 8192 * 2,
        "your formula works for the tiny model but not for SmolLM2's config: use the config's fields, not constants.",
    )
    return passed("kv_cache_bytes")


def check_llama_params(llama_params: Callable) -> str:
    """`llama_params(config)` must equal the number of distinct parameters of `Llama(config)`."""
    from ..models.llama import Llama, LlamaConfig
    from ..sizing import count_parameters

    configs = [
        LlamaConfig(),  # SmolLM2-135M
        LlamaConfig(vocab_size=1000, n_layer=2, n_head=8, n_kv_head=2, n_embd=64, n_inner=160, tie_embeddings=False),
        LlamaConfig(vocab_size=32000, n_layer=4, n_head=8, n_kv_head=8, n_embd=256, n_inner=688),
    ]
    for config in configs:
        with torch.device("meta"):
            want = count_parameters(Llama(config), trainable_only=False)
        got = llama_params(config)
        hint = "per block: q and o are C x C, k and v are C x (n_kv_head * head_dim), three C x n_inner MLP matrices, two norms of C; "
        hint += "plus the embedding, the final norm, and a separate head only when tie_embeddings is False."
        expect(got == want, f"{hint} (Off by {got - want:+,} for {config}.)")
    return passed("llama_params")

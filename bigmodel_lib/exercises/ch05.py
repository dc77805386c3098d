"""Checks for chapter 05's exercises: causal attention, the GPT parameter formula, RMSNorm."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from . import expect, passed


def check_causal_attention(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> str:
    """`fn(q, k, v)` with q, k, v of shape (B, H, T, D) must equal causal scaled dot-product attention."""
    g = torch.Generator().manual_seed(5)
    for shape in [(1, 1, 1, 4), (2, 3, 7, 8), (1, 2, 16, 32)]:
        q, k, v = (torch.randn(*shape, generator=g) * 2 for _ in range(3))
        out = fn(q, k, v)
        expect(isinstance(out, torch.Tensor) and out.shape == shape, f"return a tensor of shape {shape} (B, H, T, D)")
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        full = F.scaled_dot_product_attention(q, k, v)
        if shape[2] > 1 and torch.allclose(out, full, atol=1e-4):
            expect(False, "position t must not see positions after t: mask the scores above the diagonal with -inf")
        expect(torch.allclose(out, ref, atol=1e-4), "scale the scores by 1/sqrt(D) before the softmax over the last axis")
    return passed("causal attention")


def check_gpt_parameter_count(fn: Callable[..., int]) -> str:
    """`fn(vocab_size, block_size, n_layer, n_embd, bias)` must equal `GPT(config).num_parameters()`."""
    from ..models.gpt import GPT, GPTConfig

    for v, t, n_layer, c, bias in [(65, 64, 2, 32, True), (100, 16, 3, 48, False), (50257, 1024, 12, 768, True)]:
        config = GPTConfig(vocab_size=v, block_size=t, n_layer=n_layer, n_head=4, n_embd=c, bias=bias)
        with torch.device("meta"):
            expected = GPT(config).num_parameters()
        got = fn(v, t, n_layer, c, bias)
        if got == expected + v * c:
            expect(False, "lm_head shares its matrix with wte (weight tying): count it once")
        expect(got == expected, f"for V={v}, T={t}, L={n_layer}, C={c}, bias={bias}: count wte, wpe, each block "
               "(two norms, c_attn, attn c_proj, c_fc, mlp c_proj) and ln_f; biases only when bias=True")
    return passed("GPT parameter count")


def check_rms_norm(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> str:
    """`fn(x, weight, eps)` must equal `torch.nn.functional.rms_norm` over the last axis."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(3, 5, 16, generator=g) * 4 + 2
    weight = torch.rand(16, generator=g) + 0.5
    out = fn(x, weight, 1e-6)
    expect(isinstance(out, torch.Tensor) and out.shape == x.shape, "return a tensor shaped like x")
    ref = F.rms_norm(x, (16,), weight, eps=1e-6)
    centred = F.layer_norm(x, (16,), weight, eps=1e-6)
    if torch.allclose(out, centred, atol=1e-4):
        expect(False, "that is LayerNorm: RMSNorm does not subtract the mean")
    expect(torch.allclose(out, ref, atol=1e-4), "divide x by sqrt(mean(x**2 over the last axis) + eps), then scale by weight")
    return passed("RMSNorm")

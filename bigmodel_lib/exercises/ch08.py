"""Checks for chapter 08's exercises (fine-tuning and LoRA)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from . import expect, passed


def _case(seed: int, d_in: int = 12, d_out: int = 7, r: int = 3):
    from ..finetuning.lora import LoRALinear

    g = torch.Generator().manual_seed(seed)
    base = nn.Linear(d_in, d_out)
    with torch.no_grad():
        base.weight.copy_(torch.randn(d_out, d_in, generator=g))
        base.bias.copy_(torch.randn(d_out, generator=g))
    layer = LoRALinear(base, r=r, alpha=2.0 * r + seed)
    with torch.no_grad():
        layer.lora_A.copy_(torch.randn(r, d_in, generator=g))
        layer.lora_B.copy_(torch.randn(d_out, r, generator=g))
    x = torch.randn(5, d_in, generator=g)
    return layer, x


def check_lora_forward(lora_forward: Callable) -> str:
    """`lora_forward(x, W, b, A, B, alpha, r)` must equal our LoRALinear's output."""
    for seed in range(3):
        layer, x = _case(seed)
        with torch.no_grad():
            want = layer(x)
            got = lora_forward(x, layer.base.weight, layer.base.bias, layer.lora_A, layer.lora_B, layer.alpha, layer.r)
        expect(isinstance(got, torch.Tensor) and got.shape == want.shape,
               f"return a tensor of shape {tuple(want.shape)}: (batch, out_features)")
        expect(torch.allclose(got, want, atol=1e-5),
               "y = x Wᵀ + b + (x Aᵀ Bᵀ) · (alpha / r); check the transposes and the scaling")
    return passed("LoRA forward")


def check_lora_param_count(lora_params: Callable) -> str:
    """`lora_params(d_in, d_out, r, n_layers, n_targets)` = adapter parameters added."""
    from ..finetuning.lora import apply_lora, parameter_counts

    for d_in, d_out, r, n_layers, n_targets in [(384, 384, 8, 6, 2), (768, 768, 4, 12, 4), (64, 32, 2, 3, 1)]:
        blocks = nn.ModuleList(nn.ModuleDict({f"t{i}": nn.Linear(d_in, d_out) for i in range(n_targets)})
                               for _ in range(n_layers))
        apply_lora(blocks, target_modules=[f"t{i}" for i in range(n_targets)], r=r)
        want = parameter_counts(blocks)["trainable"]
        got = lora_params(d_in, d_out, r, n_layers, n_targets)
        expect(got == want, "each adapted layer adds A (r × d_in) and B (d_out × r); count every layer and target")
    return passed("LoRA parameter count")


def check_merge(merge: Callable) -> str:
    """`merge(W, A, B, alpha, r)` returns the merged weight W + B A · alpha / r."""
    for seed in range(3):
        layer, x = _case(seed)
        with torch.no_grad():
            want = layer(x)
            W = merge(layer.base.weight.clone(), layer.lora_A, layer.lora_B, layer.alpha, layer.r)
            expect(isinstance(W, torch.Tensor) and W.shape == layer.base.weight.shape,
                   "the merged weight has the base weight's shape (out, in)")
            got = x @ W.T + layer.base.bias
        expect(torch.allclose(got, want, atol=1e-4),
               "the merged layer must compute what base + adapter computed: ΔW = B @ A · alpha / r")
    return passed("LoRA merge")

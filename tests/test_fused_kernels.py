"""The fused kernels the models run by default against the written-out formulas the chapters build."""

import pytest
import torch
from torch import nn

from bigmodel_lib.models.attention import LayerNorm, RMSNorm, gelu_exact, gelu_tanh, set_fused
from bigmodel_lib.models.gpt import GPT, GPTConfig
from bigmodel_lib.models.modern_gpt import ModernGPT, ModernGPTConfig
from bigmodel_lib.numerics import check_matches, roundoff_bound, transformer_roundings

SIZES = dict(block_size=16, vocab_size=11, n_layer=2, n_head=4, n_embd=32)


def test_layernorm_rmsnorm_and_gelu_fused_equal_written_out():
    torch.manual_seed(0)
    x = 3 * torch.randn(5, 7, 48)
    for norm in (LayerNorm(48), RMSNorm(48, 1e-6)):
        nn.init.normal_(norm.weight, std=0.5)
        fused = norm(x)
        norm.fused = False
        # mean, variance and scaling: about 3 sums of 48 terms per output
        check_matches(f"{type(norm).__name__}: F.* vs written out", norm(x), fused, terms=3 * 48)
    mlp_input = 4 * torch.randn(1000)
    # one value through a handful of roundings (cube, tanh, products): 10 is generous
    check_matches("GELU (tanh): F.gelu vs gelu_tanh", gelu_tanh(mlp_input), nn.functional.gelu(mlp_input, approximate="tanh"),
                  terms=10)
    check_matches("GELU (exact): F.gelu vs gelu_exact", gelu_exact(mlp_input), nn.functional.gelu(mlp_input), terms=10)


def test_set_fused_switches_every_part():
    model = set_fused(GPT(GPTConfig(**SIZES)), False)
    switches = [m.fused for m in model.modules() if hasattr(m, "fused")]
    assert switches and not any(switches), "set_fused(model, False) left a norm or MLP on its fused kernel"
    assert not any(m.use_sdpa for m in model.modules() if hasattr(m, "use_sdpa"))


@pytest.mark.parametrize("make", [lambda: GPT(GPTConfig(**SIZES)), lambda: GPT(GPTConfig(**SIZES, gelu_approximate="none")),
                                  lambda: ModernGPT(ModernGPTConfig(**SIZES))],
                         ids=["gpt", "gpt_exact_gelu", "modern_gpt"])
def test_a_training_step_is_the_same_with_fused_and_written_out_kernels(make):
    torch.manual_seed(0)
    fused = make()
    for p in fused.parameters():  # larger than the initialisation, so that every part's output matters
        nn.init.normal_(p, std=0.3)
    written = set_fused(make(), False)
    written.load_state_dict(fused.state_dict())
    x = torch.randint(0, SIZES["vocab_size"], (3, SIZES["block_size"]))
    logits_f, loss_f = fused(x, x)
    logits_w, loss_w = written(x, x)
    c = SIZES["n_embd"]
    terms = transformer_roundings(SIZES["n_layer"], c, 4 * c, c // SIZES["n_head"], SIZES["block_size"])
    check_matches("logits, fused vs written-out kernels", logits_w, logits_f, terms=terms)
    loss_f.backward()
    loss_w.backward()
    # backward walks the same sums again (twice: activations' and weights' gradients), plus the batch sum
    grad_terms = 3 * terms + x.numel()
    for (name, p_f), p_w in zip(fused.named_parameters(), written.parameters(), strict=True):
        scale = float(p_f.grad.abs().max()) or 1.0
        check_matches(f"gradient of {name}, fused vs written-out", p_w.grad, p_f.grad, terms=grad_terms,
                      magnitude=scale)
    assert roundoff_bound(terms) < 1e-4  # the bound is tight enough to catch a wrong formula

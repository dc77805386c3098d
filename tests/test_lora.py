"""LoRA from scratch: merge/unmerge, gradients only on adapters, equivalence with `peft`."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from bigmodel_lib.finetuning.lora import (
    LoRALinear,
    apply_lora,
    lora_layers,
    lora_state_dict,
    merge_lora,
    parameter_counts,
    unmerge_lora,
)
from bigmodel_lib.numerics import check_matches, transformer_roundings


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def _randomise_b(model: nn.Module, seed: int = 1) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in lora_layers(model):
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g) * 0.1)


@pytest.mark.reference
def test_starts_as_the_base_layer_and_scales_by_alpha_over_r():
    base = nn.Linear(5, 4)
    layer = LoRALinear(copy.deepcopy(base), r=2, alpha=6)
    x = torch.randn(3, 5)
    assert layer.scaling == 3.0
    check_matches("LoRA at B = 0 vs its base layer", layer(x), base(x), terms=5 + 2)  # B = 0 → ΔW = 0
    with torch.no_grad():
        layer.lora_B.fill_(0.5)
    expected = base(x) + (x @ layer.lora_A.T @ layer.lora_B.T) * 3.0
    check_matches("LoRA vs its formula", layer(x), expected, terms=5 + 2 + 2)  # x·Wᵀ (5), x·Aᵀ (5), ·Bᵀ (r = 2)


@pytest.mark.reference
def test_merged_output_equals_unmerged():
    model = apply_lora(_mlp(), target_modules=["0", "2"], r=2, alpha=4)
    _randomise_b(model)
    x = torch.randn(10, 6)
    before = model(x)
    original_weight = model[0].base.weight.detach().clone()
    merge_lora(model)
    assert all(layer.merged for layer in lora_layers(model))
    # Merging rounds W + s·B·A (a rank-2 sum) once per weight; two layers of ≤ 8-term products follow.
    terms = 2 * (2 + 1 + 8)
    check_matches("merged vs unmerged outputs", model(x), before, terms=terms)
    assert not torch.equal(model[0].base.weight, original_weight)
    unmerge_lora(model)
    check_matches("unmerged weight vs original", model[0].base.weight, original_weight, terms=2 * (2 + 1))
    check_matches("outputs after unmerging", model(x), before, terms=terms)


def test_gradients_only_on_adapters():
    model = apply_lora(_mlp(), target_modules=["0", "2"], r=2, alpha=4)
    _randomise_b(model)
    model(torch.randn(4, 6)).pow(2).sum().backward()
    for name, p in model.named_parameters():
        if "lora_" in name:
            assert p.requires_grad and p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert not p.requires_grad and p.grad is None, name
    counts = parameter_counts(model)
    assert counts["trainable"] == 2 * (6 + 8) + 2 * (8 + 3)
    assert counts["total"] == sum(p.numel() for p in _mlp().parameters()) + counts["trainable"]
    assert set(lora_state_dict(model)) == {"0.lora_A", "0.lora_B", "2.lora_A", "2.lora_B"}


def test_trainable_modules_and_clear_errors():
    model = apply_lora(_mlp(), target_modules=["0"], r=2, trainable_modules=["2"])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"0.lora_A", "0.lora_B", "2.weight", "2.bias"}
    with pytest.raises(ValueError, match="No nn.Linear matches"):
        apply_lora(_mlp(), target_modules=["query"])
    with pytest.raises(ValueError, match="rank"):
        LoRALinear(nn.Linear(2, 2), r=0)


@pytest.fixture(scope="module")
def minilm():
    transformers = pytest.importorskip("transformers")
    from bigmodel_lib.data import minilm_dir

    model = transformers.AutoModel.from_pretrained(str(minilm_dir()))
    tok = transformers.AutoTokenizer.from_pretrained(str(minilm_dir()))
    batch = tok(["Free entry in 2 a wkly comp to win FA Cup final tkts",
                 "I'll call you later, ok?"], padding=True, return_tensors="pt")
    return model.eval(), batch


@pytest.mark.reference
def test_matches_peft_on_real_minilm(minilm):
    peft = pytest.importorskip("peft")
    model, batch = minilm
    r, alpha = 8, 16
    ours = apply_lora(copy.deepcopy(model), target_modules=["query", "value"], r=r, alpha=alpha).eval()
    cfg = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=["query", "value"])
    theirs = peft.get_peft_model(copy.deepcopy(model), cfg).eval()

    # Same trainable-parameter count (6 layers × 2 projections × r·(384 + 384)).
    peft_trainable, peft_total = theirs.get_nb_trainable_parameters()
    counts = parameter_counts(ours)
    assert counts["trainable"] == peft_trainable == 6 * 2 * r * (384 + 384)
    assert counts["total"] == peft_total

    # Give peft's B non-zero values, then copy its A and B into ours: outputs must agree.
    g = torch.Generator().manual_seed(0)
    peft_params = dict(theirs.named_parameters())
    with torch.no_grad():
        for name, p in peft_params.items():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        for name, layer in ours.named_modules():
            if isinstance(layer, LoRALinear):
                prefix = f"base_model.model.{name}"
                layer.lora_A.copy_(peft_params[f"{prefix}.lora_A.default.weight"])
                layer.lora_B.copy_(peft_params[f"{prefix}.lora_B.default.weight"])
        ours_out = ours(**batch).last_hidden_state
        peft_out = theirs(**batch).last_hidden_state
        base_out = model(**batch).last_hidden_state
    assert (ours_out - base_out).abs().max() > 1e-3  # the adapters really change the output
    # fp32 round-off through MiniLM's 6 blocks, plus the adapters' rank-r products in query and value.
    terms = transformer_roundings(6, 384, 1536, 32, batch["input_ids"].shape[1]) + 6 * r
    check_matches("LoRA MiniLM vs peft", ours_out, peft_out, terms=terms)

    # Merged inference agrees with peft's merged model too.
    with torch.no_grad():
        merge_lora(ours)
        merged = theirs.merge_and_unload()
        check_matches("merged LoRA MiniLM vs peft's merge", ours(**batch).last_hidden_state,
                      merged(**batch).last_hidden_state, terms=terms)

"""The modern recipe's GPT: with GPT-2's switches it is chapter 05's GPT; its own parts behave."""

import pytest
import torch

from bigmodel_lib.models.gpt import GPT, GPTConfig, load_pretrained, save_pretrained
from bigmodel_lib.models.modern_gpt import GPT2_LAYOUT, ModernGPT, ModernGPTConfig
from bigmodel_lib.numerics import check_matches

SIZES = dict(block_size=16, vocab_size=11, n_layer=2, n_head=4, n_embd=32)


def test_with_gpt2_switches_it_is_chapter_05s_gpt():
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(**SIZES, bias=False))
    modern = ModernGPT(ModernGPTConfig(**SIZES, **GPT2_LAYOUT))
    modern.load_state_dict(gpt.state_dict(), strict=True)  # same parameter names and shapes
    assert modern.num_parameters() == gpt.num_parameters()
    x = torch.randint(0, SIZES["vocab_size"], (2, SIZES["block_size"]))
    # the same kernels in the same order: no rounding may differ
    assert torch.equal(modern(x)[0], gpt(x)[0]), "ModernGPT with GPT2_LAYOUT computes other logits than GPT"


def test_the_modern_model_generates_the_same_with_and_without_its_cache():
    torch.manual_seed(0)
    model = ModernGPT(ModernGPTConfig(**SIZES))
    prompt = torch.randint(0, SIZES["vocab_size"], (1, 3))
    # longer than block_size: the cache is rebuilt after cropping, rotary positions restart with it
    cached = model.generate(prompt, 25, use_kv_cache=True, generator=torch.Generator().manual_seed(1))
    plain = model.generate(prompt, 25, use_kv_cache=False, generator=torch.Generator().manual_seed(1))
    assert torch.equal(cached, plain)
    x = torch.randint(0, SIZES["vocab_size"], (1, 9))
    full = model.hidden_states(x)
    from bigmodel_lib.models.attention import KVCache

    cache = KVCache(SIZES["n_layer"])
    model.hidden_states(x[:, :5], cache)
    check_matches("last hidden state, cached vs whole sequence", model.hidden_states(x[:, 5:], cache)[:, -1],
                  full[:, -1], terms=4 * 9 * SIZES["n_embd"])


def test_an_untied_modern_model_saves_and_loads_whole(tmp_path):
    torch.manual_seed(0)
    model = ModernGPT(ModernGPTConfig(**SIZES, tie_weights=False)).eval()
    assert model.lm_head.weight is not model.transformer.wte.weight
    save_pretrained(model, tmp_path / "m")
    loaded, _ = load_pretrained(tmp_path / "m")
    assert type(loaded) is ModernGPT and loaded.config == model.config
    x = torch.randint(0, SIZES["vocab_size"], (2, 8))
    assert torch.equal(loaded(x)[0], model(x)[0])


def test_a_switch_with_an_unknown_value_is_a_one_line_error():
    with pytest.raises(ValueError, match="norm must be one of"):
        ModernGPTConfig(**SIZES, norm="batchnorm")


def test_chapter_07s_recipe_is_what_the_committed_ablation_kept():
    import json
    from dataclasses import asdict
    from pathlib import Path

    from bigmodel_lib.training.course_gpt import modern_recipe_config, modern_recipe_train_config

    table = json.loads((Path(__file__).parent.parent / "benchmarks/results/recipe_ablation_cpu.json").read_text())
    kept = next(row for row in table["final"] if row["change"].startswith("kept recipe"))
    model = asdict(modern_recipe_config(kept["model"]["vocab_size"]))
    assert kept["model"] == {name: value for name, value in model.items() if name in kept["model"]}, (
        "MODERN_SWITCHES in training/course_gpt.py differ from the switches benchmarks/recipe_ablation.py kept")
    # fields added to the config after the ablation ran, each one the kept recipe does not use
    assert set(model) - set(kept["model"]) <= {"gelu_approximate"} and model["mlp"] == "swiglu"
    train = modern_recipe_train_config(kept["train"]["max_steps"])
    for name in ("optimizer", "lr", "batch_size", "min_lr_ratio", "betas", "weight_decay"):
        value = getattr(train, name)
        assert list(value) == kept["train"][name] if isinstance(value, tuple) else value == kept["train"][name], name

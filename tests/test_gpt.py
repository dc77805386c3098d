"""The GPT model: names, parameter count, loss, weight tying, generation with and without cache."""

import dataclasses

import pytest
import torch

from bigmodel_lib.models.gpt import GPT, GPTConfig, gpt_parameter_formula, sample_next
from bigmodel_lib.numerics import check_matches, transformer_roundings

SMALL = GPTConfig(block_size=16, vocab_size=37, n_layer=2, n_head=2, n_embd=24, dropout=0.0)


def explicit_count(v: int, t: int, c: int, n_layer: int, bias: bool) -> int:
    """Written out term by term, independently of gpt_parameter_formula."""
    ln = 2 * c if bias else c
    attn = (c * 3 * c + (3 * c if bias else 0)) + (c * c + (c if bias else 0))
    mlp = (c * 4 * c + (4 * c if bias else 0)) + (4 * c * c + (c if bias else 0))
    return v * c + t * c + n_layer * (2 * ln + attn + mlp) + ln  # lm_head tied to wte


def test_config_is_frozen_and_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SMALL.n_layer = 3
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=10, n_head=3)


@pytest.mark.parametrize("bad, message", [
    (dict(n_head=0), "n_head must be a positive whole number"),
    (dict(block_size=64.0), "block_size must be a positive whole number"),
    (dict(n_layer=True), "n_layer must be a positive whole number"),
    (dict(vocab_size=-3), "vocab_size must be a positive whole number"),
    (dict(dropout=1.5), "dropout must be a number in"),
    (dict(gelu_approximate="erf"), "gelu_approximate must be 'tanh' or 'none'"),
])
def test_config_rejects_bad_values_with_one_line(bad, message):
    with pytest.raises(ValueError, match=message) as error:
        GPTConfig(**bad)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("bias", [True, False])
def test_parameter_count_equals_formula(bias):
    config = dataclasses.replace(SMALL, bias=bias)
    model = GPT(config)
    expected = explicit_count(37, 16, 24, 2, bias)
    assert model.num_parameters() == expected == gpt_parameter_formula(config)
    assert model.num_parameters(non_embedding=True) == expected - 16 * 24


def test_gpt2_small_parameter_count_formula():
    # GPT-2 small with its real vocabulary: the published 124M (124,439,808)
    config = GPTConfig(vocab_size=50257)
    assert gpt_parameter_formula(config) == 124_439_808 == explicit_count(50257, 1024, 768, 12, True)


def test_gpt2_parameter_names_and_tying():
    model = GPT(SMALL)
    names = set(dict(model.named_parameters(remove_duplicate=False)))
    for name in [
        "transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
        "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
        "transformer.h.0.attn.c_proj.weight", "transformer.h.1.ln_2.bias",
        "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight",
        "transformer.ln_f.weight", "lm_head.weight",
    ]:
        assert name in names, name
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()


def test_forward_shapes_and_initial_loss():
    torch.manual_seed(0)
    model = GPT(SMALL)
    idx = torch.randint(0, 37, (3, 16))
    logits, loss = model(idx)
    assert logits.shape == (3, 16, 37) and loss is None
    _, loss = model(idx, idx)
    # at initialisation the predictions are near uniform: loss ≈ ln(V)
    assert abs(loss.item() - torch.log(torch.tensor(37.0)).item()) < 0.3
    loss.backward()
    assert model.transformer.wte.weight.grad is not None
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 17, dtype=torch.long))


@pytest.mark.reference
def test_causality_future_tokens_do_not_change_past_logits():
    torch.manual_seed(0)
    model = GPT(SMALL).eval()
    a = torch.randint(0, 37, (1, 10))
    b = a.clone()
    b[0, 6:] = (b[0, 6:] + 1) % 37
    la, _ = model(a)
    lb, _ = model(b)
    # Past positions see the same inputs; only masked (zero-weight) terms differ, so the bound of the whole
    # small GPT's round-off holds.
    terms = transformer_roundings(SMALL.n_layer, SMALL.n_embd, 4 * SMALL.n_embd, SMALL.n_embd // SMALL.n_head, 10)
    check_matches("past logits after changing the future", la[:, :6], lb[:, :6], terms=terms)
    assert (la[:, 6:] - lb[:, 6:]).abs().max() > 1e-3


def test_model_learns_a_fixed_sequence():
    torch.manual_seed(0)
    model = GPT(SMALL)
    idx = torch.randint(0, 37, (2, 17))
    opt = torch.optim.AdamW(model.param_groups(0.1), lr=1e-2)
    first = None
    for _ in range(25):
        _, loss = model(idx[:, :-1], idx[:, 1:])
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_greedy_generation_identical_with_and_without_kv_cache():
    torch.manual_seed(0)
    model = GPT(SMALL)
    prompt = torch.randint(0, 37, (2, 5))
    # 30 new tokens: past block_size (16), so the cropping path is exercised too
    plain = model.generate(prompt, 30, temperature=0.0)
    cached = model.generate(prompt, 30, temperature=0.0, use_kv_cache=True)
    assert plain.shape == (2, 35)
    assert torch.equal(plain, cached)
    assert torch.equal(plain[:, :5], prompt)


def test_sampling_with_seed_is_reproducible_and_cache_agrees():
    torch.manual_seed(0)
    model = GPT(SMALL)
    prompt = torch.randint(0, 37, (1, 3))
    a = model.generate(prompt, 10, top_k=5, generator=torch.Generator().manual_seed(1))
    b = model.generate(prompt, 10, top_k=5, use_kv_cache=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_top_k_and_top_p_filters():
    logits = torch.tensor([[4.0, 3.0, 2.0, 1.0, 0.0]])
    g = torch.Generator().manual_seed(0)
    picks = {sample_next(logits, top_k=2, generator=g).item() for _ in range(200)}
    assert picks == {0, 1}
    probs = logits.softmax(-1)[0]
    p = (probs[0] + 0.5 * probs[1]).item()  # the nucleus needs tokens 0 and 1 to cover p
    picks = {sample_next(logits, top_p=p, generator=g).item() for _ in range(300)}
    assert picks == {0, 1}
    assert sample_next(logits, temperature=0.0).item() == 0


@pytest.mark.parametrize("use_kv_cache", [False, True])
def test_generate_rejects_prompts_and_settings_it_cannot_use(use_kv_cache):
    model = GPT(SMALL)
    prompt = torch.tensor([[1, 2, 3]])
    cases = [
        (dict(idx=torch.tensor([1, 2, 3])), r"shaped \(batch, time\), got shape \(3,\).*idx\[None\]"),
        (dict(idx=torch.zeros((1, 0), dtype=torch.long)), "at least one token, got an empty one"),
        (dict(idx=prompt, top_k=0), "top_k must be at least 1"),
        (dict(idx=prompt.float()), "integer token ids"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            model.generate(max_new_tokens=2, use_kv_cache=use_kv_cache, **kwargs)
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        sample_next(torch.zeros(1, 5), top_k=0)
    assert model.generate(prompt, 2, top_k=1, use_kv_cache=use_kv_cache).shape == (1, 5)


def test_flops_per_token():
    model = GPT(SMALL)
    n = model.num_parameters(non_embedding=True)
    assert model.flops_per_token(8) == 6 * n + 12 * 2 * 24 * 8



@pytest.mark.parametrize(
    "config",
    [GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128), GPTConfig(), GPTConfig(bias=False)],
    ids=["tiny", "gpt2-small", "no-bias"],
)
def test_parameter_count_equals_chapter_01_formula(config):
    from bigmodel_lib.sizing import gpt_parameter_count

    with torch.device("meta"):  # shapes only: GPT-2 small costs no memory
        model = GPT(config)
    assert model.num_parameters() == gpt_parameter_count(config)

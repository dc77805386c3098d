"""Our from-scratch Llama with SmolLM2-135M-Instruct's weights equals transformers' model."""

import pytest
import torch

from bigmodel_lib.models.attention import KVCache, RMSNorm, apply_rope, attention, rope_cos_sin, set_use_sdpa
from bigmodel_lib.models.llama import Llama, LlamaConfig, repeat_kv
from bigmodel_lib.numerics import check_matches, transformer_roundings
from bigmodel_lib.sizing import count_parameters

PROMPT = [{"role": "user", "content": "Name three colours of the rainbow."}]


@pytest.fixture(scope="module")
def models():
    # Cold cache: the first call de-quantises the GGUF once (about a minute), then it is cached.
    from bigmodel_lib.models.pretrained import load_smollm2, load_smollm2_reference

    ref, tokenizer = load_smollm2_reference()
    ours, _ = load_smollm2()
    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    return ours, ref, tokenizer, ids["input_ids"]


def test_parameter_count_matches(models):
    ours, ref, _, _ = models
    assert count_parameters(ours, trainable_only=False) == sum(p.numel() for p in ref.parameters()) == 134_515_008
    assert ours.lm_head.weight is ours.tok_emb.weight


@pytest.mark.reference
def test_logits_match_transformers(models):
    ours, ref, _, ids = models
    with torch.no_grad():
        logits, _ = ours(ids)
        expected = ref(ids).logits
    assert logits.shape == expected.shape == (1, ids.shape[1], 49152)
    # fp32 round-off through SmolLM2's 30 blocks (C=576, MLP 1536, head 64) and the output head.
    check_matches("logits", logits, expected, terms=transformer_roundings(30, 576, 1536, 64, ids.shape[1]))


@pytest.mark.reference
def test_greedy_generation_matches_transformers(models):
    ours, ref, tokenizer, ids = models
    mine = ours.generate(ids, max_new_tokens=30)
    theirs = ref.generate(
        ids, max_new_tokens=30, min_new_tokens=30, do_sample=False, pad_token_id=tokenizer.eos_token_id
    )
    assert mine.shape == (1, ids.shape[1] + 30)
    assert mine.tolist() == theirs.tolist()
    # The KV cache changes nothing: one full forward pass predicts the same tokens.
    with torch.no_grad():
        logits, _ = ours(mine[:, :-1])
    assert torch.equal(logits[0, ids.shape[1] - 1 :].argmax(-1), mine[0, ids.shape[1] :])


@pytest.mark.reference
def test_causal_attention_with_a_cache_offset():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, n, 8, generator=g) for n in (3, 7, 7))  # 3 new queries, 7 keys
    fused, written = (attention(q, k, v, causal=True, use_sdpa=flag) for flag in (True, False))
    # One head: the score (8 terms), the softmax's sum and the weighted sum (7 keys each).
    check_matches("attention with a cache offset", fused, written, terms=8 + 2 * 7)
    # query 0 sits at position 4 of 7: keys 5 and 6 must not change it
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 5:], v2[:, :, 5:] = 0.0, 100.0
    assert torch.equal(attention(q, k2, v2, causal=True, use_sdpa=False)[:, :, 0], written[:, :, 0])
    one = q[:, :, -1:]
    check_matches("attention of one new query", attention(one, k, v, causal=True),
                  attention(one, k, v, causal=True, use_sdpa=False), terms=8 + 2 * 7)


def test_cached_generation_equals_full_forward_in_both_attention_variants():
    torch.manual_seed(0)
    model = Llama(LlamaConfig(vocab_size=40, n_layer=2, n_head=4, n_kv_head=2, n_embd=32, n_inner=48,
                              max_seq_len=32)).eval()
    prompt = torch.randint(0, 40, (2, 5))
    for use_sdpa in (True, False):
        out = set_use_sdpa(model, use_sdpa).generate(prompt, max_new_tokens=6)
        with torch.no_grad():
            logits, _ = model(out[:, :-1])
        assert torch.equal(logits[:, 4:].argmax(-1), out[:, 5:])
    assert all(not block.attn.use_sdpa for block in model.layers)


def test_generate_rejects_prompts_and_settings_it_cannot_use():
    from bigmodel_lib.models.llama import Llama, LlamaConfig

    torch.manual_seed(0)
    model = Llama(LlamaConfig(vocab_size=32, n_layer=1, n_head=2, n_kv_head=1, n_embd=16, n_inner=32, max_seq_len=16))
    for idx, kwargs, message in [
        (torch.tensor([1, 2]), {}, r"shaped \(batch, time\).*idx\[None\]"),
        (torch.zeros((1, 0), dtype=torch.long), {}, "at least one token"),
        (torch.tensor([[1, 2]]), {"temperature": 1.0, "top_k": 0}, "top_k must be at least 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            model.generate(idx, 2, **kwargs)
    assert model.generate(torch.tensor([[1, 2]]), 2).shape == (1, 4)


@pytest.mark.reference
def test_building_blocks_match_transformers():
    from transformers.models.llama.modeling_llama import LlamaRMSNorm, apply_rotary_pos_emb

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 16, generator=g)
    norm, ref_norm = RMSNorm(16, 1e-5), LlamaRMSNorm(16, eps=1e-5)
    with torch.no_grad():
        norm.weight.copy_(torch.rand(16, generator=g))
        ref_norm.weight.copy_(norm.weight)
    check_matches("RMSNorm", norm(x), ref_norm(x), terms=2 * 16)  # the mean of 16 squares, then a scaling

    q, k = torch.randn(2, 4, 5, 16, generator=g), torch.randn(2, 2, 5, 16, generator=g)
    cos, sin = rope_cos_sin(16, torch.arange(5), theta=100000.0)
    q_ref, k_ref = apply_rotary_pos_emb(q, k, cos[None], sin[None])
    # Each rotated value is x₁·cos − x₂·sin: two products and a sum.
    check_matches("RoPE on queries", apply_rope(q, cos, sin), q_ref, terms=3)
    check_matches("RoPE on keys", apply_rope(k, cos, sin), k_ref, terms=3)
    # Rotations keep lengths (a 16-term sum of squares, after the rotation's 3 roundings);
    # heads h=0,1 read kv head 0, h=2,3 read kv head 1.
    check_matches("length after RoPE", apply_rope(q, cos, sin).norm(dim=-1), q.norm(dim=-1), terms=3 + 16)
    assert torch.equal(repeat_kv(k, 2)[:, 1], k[:, 0]) and torch.equal(repeat_kv(k, 2)[:, 2], k[:, 1])


def test_kv_cache_grows_per_token():
    cache = KVCache(n_layer=1)
    for _ in range(3):
        cache.layers[0].append(torch.zeros(1, 3, 1, 64), torch.zeros(1, 3, 1, 64))
    assert cache.length == 3 and cache.nbytes() == 2 * 3 * 3 * 64 * 4


def test_cache_is_keyed_by_the_gguf(models):
    import json

    from bigmodel_lib.data import sha256_of, smollm2_gguf
    from bigmodel_lib.models.pretrained import smollm2_dequantized_dir

    folder = smollm2_dequantized_dir()
    source = json.loads((folder / "source.json").read_text())
    assert source["sha256"] == sha256_of(smollm2_gguf())
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())

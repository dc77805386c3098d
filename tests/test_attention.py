"""Our attention, positional encodings, norms and GELU against PyTorch, transformers and Keras."""


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigmodel_lib.models.attention import (
    LayerKVCache,
    LayerNorm,
    MultiHeadSelfAttention,
    RMSNorm,
    apply_rope,
    causal_mask,
    gelu_exact,
    gelu_tanh,
    merge_heads,
    rope_cos_sin,
    scaled_dot_product_attention,
    sinusoidal_positions,
    split_heads,
)
from bigmodel_lib.numerics import check_close, check_matches, roundoff_bound


@pytest.fixture
def qkv():
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(2, 3, 7, 16, generator=g) for _ in range(3))


@pytest.mark.reference
def test_sdpa_matches_torch(qkv):
    q, k, v = qkv
    ours = scaled_dot_product_attention(q, k, v)
    # One head: the score (16 terms), the softmax's sum and the weighted sum (7 keys each).
    check_matches("attention", ours, F.scaled_dot_product_attention(q, k, v), terms=16 + 2 * 7)


@pytest.mark.reference
def test_causal_sdpa_matches_torch(qkv):
    q, k, v = qkv
    ours, w = scaled_dot_product_attention(q, k, v, is_causal=True, return_weights=True)
    check_matches("causal attention", ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), terms=16 + 2 * 7)
    assert torch.all(w.triu(diagonal=1) == 0)  # nothing from the future
    check_matches("attention row sums", w.sum(-1), torch.ones(2, 3, 7), terms=7)  # a sum of ≤ 7 probabilities


@pytest.mark.reference
def test_boolean_and_additive_masks_agree(qkv):
    q, k, v = qkv
    keep = causal_mask(7)
    additive = torch.zeros(7, 7).masked_fill(~keep, float("-inf"))
    a = scaled_dot_product_attention(q, k, v, mask=keep)
    b = scaled_dot_product_attention(q, k, v, mask=additive)
    check_matches("boolean vs additive mask", a, b, terms=16 + 2 * 7)
    check_matches("masked attention vs torch", a, F.scaled_dot_product_attention(q, k, v, attn_mask=keep),
                  terms=16 + 2 * 7)


def test_causal_mask_bottom_right_for_cache():
    m = causal_mask(2, 5)
    assert m.tolist() == [[True, True, True, True, False], [True, True, True, True, True]]
    with pytest.raises(ValueError):
        causal_mask(5, 2)


def test_heads_round_trip():
    x = torch.randn(2, 5, 12)
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 5, 4)
    assert torch.equal(merge_heads(h), x)


@pytest.mark.reference
def test_mha_scratch_equals_fused_and_cache():
    torch.manual_seed(0)
    mha = MultiHeadSelfAttention(32, 4).eval()
    x = torch.randn(2, 9, 32)
    fused = mha(x)
    mha.use_sdpa = False
    scratch = mha(x)
    # q/k/v projection (32 terms), score (head 8), softmax and weighted sum (9 keys each), output projection (32).
    terms = 32 + 8 + 2 * 9 + 32
    check_matches("written-out vs fused attention", scratch, fused, terms=terms)
    # the same outputs computed in pieces with a cache: prefill 5, then 1, then 3
    mha.use_sdpa = True
    cache = LayerKVCache()
    pieces = [mha(x[:, :5], cache), mha(x[:, 5:6], cache), mha(x[:, 6:], cache)]
    check_matches("attention computed in pieces with a KV cache", torch.cat(pieces, dim=1), fused, terms=terms)


@pytest.mark.reference
def test_mha_matches_torch_multihead_attention():
    torch.manual_seed(0)
    ours = MultiHeadSelfAttention(32, 4).eval()
    ref = torch.nn.MultiheadAttention(32, 4, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.c_attn.weight)
        ref.in_proj_bias.copy_(ours.c_attn.bias)
        ref.out_proj.weight.copy_(ours.c_proj.weight)
        ref.out_proj.bias.copy_(ours.c_proj.bias)
    x = torch.randn(2, 6, 32)
    expected, _ = ref(x, x, x, attn_mask=~causal_mask(6), need_weights=False)
    check_matches("attention vs nn.MultiheadAttention", ours(x), expected, terms=32 + 8 + 2 * 6 + 32)


@pytest.mark.reference
def test_mha_matches_keras_with_same_weights():
    pytest.importorskip("keras")
    from bigmodel_lib.keras_models.attention import keras_mha_from_torch

    torch.manual_seed(0)
    ours = MultiHeadSelfAttention(32, 4).eval()
    x = torch.randn(2, 6, 32)
    layer = keras_mha_from_torch(ours)
    xn = x.numpy()
    for causal in (True, False):
        ours.causal = causal
        expected = np.asarray(layer(xn, xn, use_causal_mask=causal))
        check_matches(f"attention vs Keras (causal={causal})", ours(x), expected, terms=32 + 8 + 2 * 6 + 32)


@pytest.mark.reference
def test_sinusoidal_matches_transformers():
    d = pytest.importorskip("transformers.models.distilbert.modeling_distilbert")
    ref = torch.empty(50, 16)
    d.create_sinusoidal_embeddings(50, 16, ref)
    # DistilBERT puts the sines in the first half's even slots too: same formula, same layout
    # sin(pos · freq): the angle (a power and a product) is rounded relative to its size, up to 49 radians.
    check_matches("sinusoidal positions", sinusoidal_positions(50, 16), ref, terms=3, magnitude=49.0)


@pytest.mark.reference
def test_rotary_matches_transformers_and_is_relative():
    llama = pytest.importorskip("transformers.models.llama.modeling_llama")
    torch.manual_seed(0)
    q, k = torch.randn(1, 2, 6, 8), torch.randn(1, 2, 6, 8)
    pos = torch.arange(6)
    cos, sin = rope_cos_sin(8, pos)
    rq, rk = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    inv_freq = 1.0 / (10000 ** (torch.arange(0, 8, 2).float() / 8))
    angles = torch.cat([pos[:, None] * inv_freq] * 2, dim=-1)
    eq, ek = llama.apply_rotary_pos_emb(q, k, angles.cos()[None], angles.sin()[None])
    # x₁·cos − x₂·sin (3 roundings) at angles up to 5 radians, whose own round-off grows with the position.
    check_matches("rotary queries", rq, eq, terms=3, magnitude=5 * float(q.abs().max()))
    check_matches("rotary keys", rk, ek, terms=3, magnitude=5 * float(k.abs().max()))
    # the score between positions (m, n) depends only on m - n
    a, b = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def rotated(x, position):
        return apply_rope(x, *rope_cos_sin(8, torch.tensor([position])))

    s1 = (rotated(a, 3) * rotated(b, 1)).sum()
    s2 = (rotated(a, 10) * rotated(b, 8)).sum()
    # Two rotations (angles up to 10 radians) and a dot product of 8: relative to Σ|a||b| times the angle.
    check_close("score at (3, 1) vs (10, 8)", abs(s1.item() - s2.item()),
                roundoff_bound(3 + 8, magnitude=10 * float((a.abs() * b.abs()).sum())))


@pytest.mark.reference
def test_norms_match_torch():
    torch.manual_seed(0)
    x = torch.randn(4, 5, 24) * 3 + 1
    ln, ref = LayerNorm(24), torch.nn.LayerNorm(24)
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.uniform_(-1, 1)
        ref.weight.copy_(ln.weight)
        ref.bias.copy_(ln.bias)
    check_matches("LayerNorm", ln(x), ref(x), terms=2 * 24 + 2)  # mean and variance of 24, scale, shift
    rms, rref = RMSNorm(24, eps=1e-6), torch.nn.RMSNorm(24, eps=1e-6)
    with torch.no_grad():
        rms.weight.uniform_(0.5, 1.5)
        rref.weight.copy_(rms.weight)
    check_matches("RMSNorm", rms(x), rref(x), terms=24 + 1)  # mean of 24 squares, scale
    assert LayerNorm(24, bias=False).bias is None


@pytest.mark.reference
def test_gelu_matches_torch():
    x = torch.linspace(-6, 6, 1001)
    # A handful of elementwise operations (erf or tanh, products, a sum) per value.
    check_matches("exact GELU", gelu_exact(x), F.gelu(x), terms=5)
    check_matches("tanh GELU", gelu_tanh(x), F.gelu(x, approximate="tanh"), terms=8)
    assert (gelu_exact(x) - gelu_tanh(x)).abs().max() < 1e-3  # the approximation is close


def test_attention_cost_rows():
    from bigmodel_lib.models.attention import attention_cost

    rows = attention_cost([16, 32], n_head=2, head_dim=8, repeats=1, measure_memory=False)
    assert [r["T"] for r in rows] == [16, 32]
    assert rows[1]["score_bytes"] == 4 * rows[0]["score_bytes"] and rows[1]["flops"] == 4 * rows[0]["flops"]
    assert all(r["seconds"] > 0 for r in rows)


def test_each_transformer_part_has_one_home():
    from bigmodel_lib import sizing
    from bigmodel_lib.finetuning import classify
    from bigmodel_lib.models import attention, bert, fitting, gpt, llama, sentence_embeddings, text_classifier

    for name in ("RMSNorm", "rope_cos_sin", "apply_rope", "KVCache"):
        assert getattr(llama, name) is getattr(attention, name), name
    assert llama.sample_next is gpt.sample_next
    assert sentence_embeddings.mean_pool is bert.mean_pool is classify.mean_pool
    assert fitting.count_parameters is text_classifier.count_parameters is sizing.count_parameters
    for module, gone in [(llama, "causal_attention"), (llama, "rotate_half"), (attention, "apply_rotary"),
                         (sentence_embeddings, "load_minilm"), (llama.Llama, "num_params"), (bert.Bert, "num_params")]:
        assert not hasattr(module, gone), f"{gone} is back in {module.__name__}"
    # one keyword switches the attention variant in every model
    tiny_llama = llama.Llama(llama.LlamaConfig(vocab_size=10, n_layer=1, n_head=2, n_kv_head=1, n_embd=8, n_inner=8))
    tiny_bert = bert.Bert(bert.BertConfig(vocab_size=10, max_position=8, n_layer=1, n_head=2, n_embd=8, n_inner=8))
    tiny_gpt = gpt.GPT(gpt.GPTConfig(block_size=8, vocab_size=10, n_layer=1, n_head=2, n_embd=8))
    for model in (tiny_llama, tiny_bert, tiny_gpt):
        switched = [m.use_sdpa for m in attention.set_use_sdpa(model, False).modules() if hasattr(m, "use_sdpa")]
        assert switched and not any(switched), type(model).__name__

"""Our from-scratch BERT with the real all-MiniLM-L6-v2 weights equals transformers' BertModel."""

import pytest
import torch

from bigmodel_lib.models.bert import (
    HF_IGNORED,
    BertClassifier,
    hf_to_ours,
    load_minilm,
    mean_pool,
    tokenize,
)
from bigmodel_lib.numerics import check_close, check_matches, roundoff_bound, transformer_roundings

# Tiny fixtures of different lengths, so the batch carries padding.
TEXTS = [
    "A man is playing a guitar.",
    "Someone plays an acoustic guitar on stage tonight.",
    "The stock market fell sharply.",
]


@pytest.fixture(scope="module")
def models():
    from transformers import AutoModel

    from bigmodel_lib.data import minilm_dir

    ours, tokenizer = load_minilm()
    ref = AutoModel.from_pretrained(minilm_dir()).eval()
    return ours, tokenizer, ref


def test_tokenizer_matches_transformers(models):
    from transformers import AutoTokenizer

    from bigmodel_lib.data import minilm_dir

    _, tokenizer, _ = models
    ids, mask = tokenize(tokenizer, TEXTS)
    expected = AutoTokenizer.from_pretrained(minilm_dir())(TEXTS, padding=True, return_tensors="pt")
    assert torch.equal(ids, expected["input_ids"]) and torch.equal(mask, expected["attention_mask"])
    assert (mask == 0).any(), "the fixture batch should contain padding"


@pytest.mark.reference
def test_hidden_states_and_cosines_match_transformers(models):
    ours, tokenizer, ref = models
    ids, mask = tokenize(tokenizer, TEXTS)
    with torch.no_grad():
        h_ours = ours(ids, mask)
        h_ref = ref(input_ids=ids, attention_mask=mask).last_hidden_state
    assert h_ours.shape == h_ref.shape == (3, ids.shape[1], 384)
    # Compare at real tokens: outputs at [PAD] positions are unused and their rounding differs
    # more (transformers' own sdpa and eager paths disagree there by ~3e-5 on longer batches).
    real = mask.bool()
    # fp32 round-off through 6 blocks of MiniLM (C=384, MLP 1536, head 32), relative to the largest state.
    terms = transformer_roundings(6, 384, 1536, 32, ids.shape[1])
    check_matches("hidden states at real tokens", h_ours[real], h_ref[real], terms=terms)

    e_ours = torch.nn.functional.normalize(mean_pool(h_ours, mask), dim=-1)
    e_ref = torch.nn.functional.normalize(mean_pool(h_ref, mask), dim=-1)
    cos_ours, cos_ref = e_ours @ e_ours.T, e_ref @ e_ref.T
    # Cosines of unit vectors (magnitude 1): the hidden states' round-off plus the pooling (T) and dot product (384).
    check_matches("cosine similarities", cos_ours, cos_ref, terms=terms + ids.shape[1] + 384, magnitude=1.0)
    # The two guitar sentences are closer to each other than to the market one.
    assert cos_ours[0, 1] > cos_ours[0, 2] + 0.2


@pytest.mark.reference
def test_padding_does_not_change_a_sentence(models):
    ours, tokenizer, _ = models
    ids, mask = tokenize(tokenizer, TEXTS)
    alone_ids, alone_mask = tokenize(tokenizer, TEXTS[0])
    with torch.no_grad():
        batched = ours.encode(ids, mask)[0]
        alone = ours.encode(alone_ids, alone_mask)[0]
    # Padding changes only the lengths of the masked sums (more zero terms), so the round-off bound of the
    # whole encoder (unit vectors: magnitude 1) applies.
    check_matches("sentence embedding batched vs alone", batched, alone,
                  terms=transformer_roundings(6, 384, 1536, 32, ids.shape[1]) + ids.shape[1], magnitude=1.0)


def test_every_checkpoint_tensor_has_one_home():
    from safetensors import safe_open

    from bigmodel_lib.models.bert import minilm_files

    with safe_open(str(minilm_files()[0]), "pt") as f:
        names = [n for n in f.keys() if n not in HF_IGNORED]
    mapped = [hf_to_ours(n) for n in names]
    assert len(set(mapped)) == len(names) == 103
    assert hf_to_ours("encoder.layer.5.attention.self.query.weight") == "layers.5.attn.query.weight"
    with pytest.raises(KeyError):
        hf_to_ours("encoder.layer.0.crossattention.weight")


@pytest.mark.reference
def test_attention_probabilities_ignore_padding(models):
    ours, tokenizer, _ = models
    ids, mask = tokenize(tokenizer, TEXTS)
    with torch.no_grad():
        _, attentions = ours(ids, mask, return_attentions=True)
    assert len(attentions) == 6 and attentions[0].shape == (3, 12, ids.shape[1], ids.shape[1])
    probs = attentions[-1]
    # Each row sums T probabilities: round-off of a T-term sum of values ≤ 1.
    check_close("attention row sums − 1", (probs.sum(-1) - 1).abs().max().item(), roundoff_bound(ids.shape[1]))
    assert probs[mask[:, None, None, :].expand_as(probs) == 0].abs().max().item() == 0.0


def test_classifier_trains_the_attention_projections(models):
    ours, tokenizer, _ = models
    clf = BertClassifier(ours, n_classes=2)
    ids, mask = tokenize(tokenizer, TEXTS[:2])
    logits = clf(ids, mask)
    assert logits.shape == (2, 2)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1])).backward()
    assert ours.layers[0].attn.query.weight.grad is not None
    assert isinstance(ours.layers[0].attn.value, torch.nn.Linear)
    ours.zero_grad(set_to_none=True)


def test_fused_and_written_out_attention_agree_with_padding():
    from bigmodel_lib.models.attention import set_use_sdpa
    from bigmodel_lib.models.bert import Bert, BertConfig

    torch.manual_seed(0)
    model = Bert(BertConfig(vocab_size=50, max_position=16, n_layer=2, n_head=4, n_embd=32, n_inner=64)).eval()
    ids, mask = torch.randint(1, 50, (2, 9)), torch.ones(2, 9, dtype=torch.long)
    mask[1, 6:] = 0
    with torch.no_grad():
        fused = model(ids, mask)
        written, probs = set_use_sdpa(model, False)(ids, mask, return_attentions=True)
    real = mask.bool()
    # 2 blocks of width 32 (heads of 8, MLP 64) over 9 positions
    check_matches("fused vs written-out", fused[real], written[real], terms=transformer_roundings(2, 32, 64, 8, 9))
    assert len(probs) == 2 and float(probs[0][1, :, :, 6:].abs().max()) == 0.0  # padding keys get no weight

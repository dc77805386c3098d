"""The classification head on our character GPT: encoding, padding, pooling, training."""

import numpy as np
import pytest
import torch

from bigmodel_lib.finetuning import classify as C
from bigmodel_lib.finetuning.gpt_classifier import (
    GPTClassifier,
    encode_chars,
    fold_char,
    random_gpt_like,
    unknown_rate,
)
from bigmodel_lib.models.gpt import GPT, GPTConfig
from bigmodel_lib.numerics import check_matches, transformer_roundings
from bigmodel_lib.tokenizers.char import CharTokenizer

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll: Speak, speak.\n"


@pytest.fixture(scope="module")
def small():
    tok = CharTokenizer.train(TEXT)
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(block_size=16, vocab_size=tok.vocab_size, n_layer=2, n_head=2, n_embd=16, dropout=0.0))
    return gpt.eval(), tok


def test_encode_unknown_fold_and_truncate(small):
    _, tok = small
    unk = len(tok.chars)
    ids = encode_chars(tok, ["hear 7", "Béfore", "", "speak " * 10], max_length=16)
    assert ids[0] == [tok.stoi[c] for c in "hear "] + [unk]      # 7 is not in the vocabulary
    assert tok.decode(ids[1]) == "Before"                         # é folds to e
    assert ids[2] == [unk]                                        # empty text keeps one position
    assert len(ids[3]) == 16                                      # cut to the context
    assert fold_char("é", set(tok.chars)) == "e" and fold_char("£", set(tok.chars)) == ""
    assert unknown_rate(tok, ["hear 7"]) == pytest.approx(1 / 6)


def test_body_copied_with_unk_row(small):
    gpt, _ = small
    clf = GPTClassifier(gpt, 2)
    w, new = gpt.transformer.wte.weight, clf.gpt.transformer.wte.weight
    assert new.shape == (w.shape[0] + 1, w.shape[1])
    assert torch.equal(new[:-1], w)
    check_matches("[UNK] row vs mean embedding", new[-1], w.mean(0), terms=w.shape[0])  # a mean over the vocabulary
    assert clf.gpt is not gpt and gpt.transformer.wte.weight.shape[0] == w.shape[0]  # the original untouched


@pytest.mark.reference
@pytest.mark.parametrize("pool", ["last", "mean"])
def test_padding_does_not_change_logits(small, pool):
    gpt, tok = small
    clf = GPTClassifier(gpt, 3, pool=pool).eval()
    ids = encode_chars(tok, ["hear me", "All: Speak, speak."], 16)
    x, mask = C.pad_batch(ids)
    batch = clf(x, mask)
    # Padding adds masked (zero-weight) terms only: the small GPT's round-off bound, plus the pooling's mean.
    cfg = gpt.config
    terms = transformer_roundings(cfg.n_layer, cfg.n_embd, 4 * cfg.n_embd, cfg.n_embd // cfg.n_head, 16) + 16
    for i, seq in enumerate(ids):
        alone = clf(torch.tensor([seq]), torch.ones(1, len(seq), dtype=torch.long))
        check_matches(f"logits of text {i} batched vs alone", batch[i], alone[0], terms=terms)
    # the pooled vector is what the GPT computes for those characters
    seq = torch.tensor([ids[0]])
    h = clf.gpt.hidden_states(seq)[0]
    expected = h[-1] if pool == "last" else h.mean(0)
    check_matches("pooled vector vs the GPT's hidden states", clf.embed(seq, torch.ones_like(seq)), expected[None],
                  terms=terms)


def test_too_long_and_bad_pool(small):
    gpt, _ = small
    with pytest.raises(ValueError, match="pool"):
        GPTClassifier(gpt, 2, pool="max")
    clf = GPTClassifier(gpt, 2)
    with pytest.raises(ValueError, match="context"):
        clf(torch.zeros(1, 17, dtype=torch.long), torch.ones(1, 17, dtype=torch.long))


def test_fine_tunes_with_the_classifier_loop(small):
    gpt, tok = small
    texts = ["hear me speak"] * 16 + ["All: proceed, further"] * 16
    labels = np.array([0] * 16 + [1] * 16)
    clf = GPTClassifier(gpt, 2)
    before = clf.gpt.transformer.h[0].attn.c_attn.weight.detach().clone()
    ids = encode_chars(tok, texts, 16)
    rep = C.train_classifier(clf, ids, labels, steps=30, lr=3e-3, batch_size=8, progress=False)
    assert rep.trainable == rep.total == sum(p.numel() for p in clf.parameters())
    assert np.mean(rep.losses[-5:]) < np.mean(rep.losses[:5])
    assert (C.predict_logits(clf, ids).argmax(1) == labels).mean() == 1.0
    assert not torch.equal(before, clf.gpt.transformer.h[0].attn.c_attn.weight)  # the body trained too


def test_random_gpt_like(small):
    gpt, _ = small
    fresh = random_gpt_like(gpt, seed=1)
    assert fresh.config == gpt.config
    assert not torch.equal(fresh.transformer.wte.weight, gpt.transformer.wte.weight)
    assert torch.equal(random_gpt_like(gpt, seed=1).transformer.wte.weight, fresh.transformer.wte.weight)

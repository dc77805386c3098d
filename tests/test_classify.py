"""Fine-tuning plumbing: fixed deduplicated splits, strategies, training, save/reload, predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bigmodel_lib.finetuning import classify as C
from bigmodel_lib.finetuning.lora import LoRALinear, parameter_counts
from bigmodel_lib.numerics import check_matches, transformer_roundings

transformers = pytest.importorskip("transformers")


def test_splits_are_deduplicated_disjoint_stratified_and_fixed():
    s = C.sentiment_splits()
    again = C.sentiment_splits()
    assert list(s.test.text) == list(again.test.text)
    parts = [set(s.train.text), set(s.val.text), set(s.test.text)]
    assert not (parts[0] & parts[2]) and not (parts[1] & parts[2]) and not (parts[0] & parts[1])
    assert sum(s.sizes().values()) == 3000 - 18  # 18 duplicate sentences dropped first
    for d in ("imdb", "amazon", "yelp"):
        share = (s.test.domain == d).mean()
        assert abs(share - 1 / 3) < 0.01
    sms = C.sms_splits()
    assert abs(sms.train.label.mean() - sms.test.label.mean()) < 0.005


def test_course_plan_trains_sms_three_epochs_and_covers_every_strategy():
    full, smoke = C.course_plan("full"), C.course_plan("smoke")
    per_epoch = -(-len(C.sms_splits().train) // 16)  # batches of 16
    assert full.steps["sms_spam"] == 3 * per_epoch
    assert full.limit is None and smoke.limit and max(smoke.steps.values()) <= 2
    for plan in (full, smoke):
        for task, strategies in plan.strategies.items():
            assert set(strategies) <= {*C.STRATEGIES, "peft"} and task in plan.steps and task in plan.max_len
            assert all(s == "probe" or plan.lr[s] > 0 for s in strategies)
    with pytest.raises(ValueError, match="profile"):
        C.course_plan("quick")


def _tiny_encoder():
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                                  intermediate_size=64, max_position_embeddings=64)
    return transformers.BertModel(cfg)


def test_strategies_train_what_they_say():
    enc = _tiny_encoder()
    head = 32 * 2 + 2
    model = C.configure(C.EncoderClassifier(enc, 2), "probe")
    assert parameter_counts(model)["trainable"] == head
    import copy

    model = C.configure(C.EncoderClassifier(copy.deepcopy(enc), 2), "last_n", last_n=1)
    layer = sum(p.numel() for p in enc.encoder.layer[-1].parameters())
    assert parameter_counts(model)["trainable"] == layer + head
    model = C.configure(C.EncoderClassifier(copy.deepcopy(enc), 2), "lora", r=4)
    assert parameter_counts(model)["trainable"] == 3 * 2 * 4 * (32 + 32) + head
    assert sum(isinstance(m, LoRALinear) for m in model.modules()) == 6
    with pytest.raises(ValueError, match="strategy"):
        C.configure(C.EncoderClassifier(copy.deepcopy(enc), 2), "everything")


def test_training_lowers_the_loss_and_frozen_layers_save_fewer_activations(tmp_path):
    s = C.sentiment_splits()
    tok = C.WordPieceTokenizer(__import__("bigmodel_lib.data", fromlist=["minilm_dir"]).minilm_dir() / "tokenizer.json")
    ids = tok(s.train.text[:64], 32)
    y = s.train.label.to_numpy()[:64]
    import copy

    enc = _tiny_encoder()
    full = C.configure(C.EncoderClassifier(copy.deepcopy(enc), 2), "full")
    rep_full = C.train_classifier(full, ids, y, epochs=6, lr=3e-3, batch_size=16, progress=False)
    assert np.mean(rep_full.losses[-4:]) < np.mean(rep_full.losses[:4])
    top = C.configure(C.EncoderClassifier(copy.deepcopy(enc), 2), "last_n", last_n=1)
    rep_top = C.train_classifier(top, ids, y, steps=2, lr=1e-3, batch_size=16, progress=False)
    assert rep_top.steps == 2
    assert 0 < rep_top.activation_mib < rep_full.activation_mib
    assert rep_top.state_mib < rep_full.state_mib

    # save -> load -> identical logits and predictions from raw strings
    folder = C.save_classifier(full, tok, tmp_path / "clf", classes=["neg", "pos"], max_length=32)
    assert {p.name for p in folder.iterdir()} == {"model.safetensors", "config.json", "tokenizer.json", "manifest.json"}
    again, tok2, meta = C.load_classifier(folder)
    test_ids = tok(s.test.text[:20], 32)
    # Exact: the same weights through the same kernels in the same order give the same bits.
    np.testing.assert_array_equal(C.predict_logits(again, tok2(s.test.text[:20], 32)), C.predict_logits(full, test_ids))
    out = C.predict(again, tok2, ["great!", "awful"], meta["classes"], meta["max_length"])
    assert [o["label"] in ("neg", "pos") for o in out] == [True, True] and 0.5 <= out[0]["confidence"] <= 1


def test_lora_model_saves_merged(tmp_path):
    enc = _tiny_encoder()
    model = C.configure(C.EncoderClassifier(enc, 2), "lora", r=2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LoRALinear):
                torch.nn.init.normal_(m.lora_B, std=0.1)
    ids = [[101, 2023, 2003, 102], [101, 7592, 102]]
    before = C.predict_logits(model, ids)
    tok = C.WordPieceTokenizer(__import__("bigmodel_lib.data", fromlist=["minilm_dir"]).minilm_dir() / "tokenizer.json")
    again, _, _ = C.load_classifier(C.save_classifier(model, tok, tmp_path / "m", ["a", "b"]))
    # Merging rounds W + s·B·A once per adapted weight; the tiny encoder's blocks add their own round-off.
    check_matches("merged LoRA classifier vs unmerged", C.predict_logits(again, ids), before, terms=4 * 64)
    assert not any(isinstance(m, LoRALinear) for m in again.modules())


@pytest.mark.reference
def test_our_bert_and_transformers_give_the_same_classifier_embeddings():
    """`EncoderClassifier` on chapter 05's from-scratch BERT equals it on transformers' BertModel."""
    pytest.importorskip("bigmodel_lib.models.bert")
    hf, tok = C.load_encoder("hf")
    ours, _ = C.load_encoder("ours")
    ids = tok(["Free entry in 2 a wkly comp to win FA Cup final tkts", "Ok lar... Joking wif u oni..."], 32)
    x, mask = C.pad_batch(ids)
    a = C.EncoderClassifier(hf.eval(), 2).eval()
    b = C.EncoderClassifier(ours.eval(), 2).eval()
    with torch.no_grad():
        # fp32 round-off through MiniLM's 6 blocks and the mean pooling (T = 32).
        check_matches("classifier embeddings ours vs transformers", b.embed(x, mask), a.embed(x, mask),
                      terms=transformer_roundings(6, 384, 1536, 32, 32) + 32)
    # LoRA by name works on ours too: query/value projections in every layer
    C.configure(b, "lora", r=8, alpha=16)
    assert parameter_counts(b)["trainable"] == 6 * 2 * 8 * (384 + 384) + 384 * 2 + 2


def _minilm_tokenizer():
    from bigmodel_lib.data import minilm_dir

    return C.WordPieceTokenizer(minilm_dir() / "tokenizer.json")


def test_empty_inputs_and_too_short_max_length_are_clear():
    model = C.EncoderClassifier(_tiny_encoder(), 2)
    assert C.embed_texts(model, []).shape == (0, 32)
    with pytest.raises(ValueError, match="ids` is empty"):
        C.train_classifier(model, [], [], steps=2, progress=False)
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        C.train_classifier(model, [[101, 102], [101, 102]], [0], progress=False)
    tok = _minilm_tokenizer()
    assert tok(["a b c d e f"], 4) == [tok(["a b c d e f"], 64)[0][:3] + [102]]  # [CLS] a b [SEP]
    for too_short in (0, 1):
        with pytest.raises(ValueError, match=f"max_length must be at least 2 tokens.*got {too_short}"):
            C.predict(model, tok, ["a b c"], ["neg", "pos"], max_length=too_short)


def test_predict_warns_once_about_blank_texts():
    model = C.EncoderClassifier(_tiny_encoder(), 2)
    with pytest.warns(UserWarning, match="2 of 3 texts are empty or whitespace only") as caught:
        out = C.predict(model, _minilm_tokenizer(), ["", "good film", " \n"], ["neg", "pos"])
    assert len(caught) == 1 and [o["text"] for o in out] == ["", "good film", " \n"]

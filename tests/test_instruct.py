"""Instruction-style fine-tuning helpers on the real SmolLM2-135M-Instruct (tokenizer and weights)."""

import copy

import numpy as np
import pytest
import torch

from bigmodel_lib.finetuning import instruct as I
from bigmodel_lib.finetuning.lora import apply_lora, merge_lora, parameter_counts
from bigmodel_lib.numerics import check_matches, transformer_roundings

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
TEXTS = ["Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005. Text FA to 87121",
         "Ok lar... Joking wif u oni...",
         "I'll be home in 10 minutes, do you need anything from the shop?"]


@pytest.fixture(scope="module")
def smollm2():
    from bigmodel_lib.models.pretrained import load_smollm2

    torch.manual_seed(0)
    return load_smollm2()


@pytest.fixture(scope="module")
def reference():
    from bigmodel_lib.models.pretrained import load_smollm2_reference

    return load_smollm2_reference()[0]


def test_answer_words_are_single_tokens(smollm2):
    _, tok = smollm2
    no, yes = I.answer_token_ids(tok)
    assert tok.decode([no]) == "No" and tok.decode([yes]) == "Yes"
    with pytest.raises(ValueError, match="tokens"):
        I.answer_token_ids(tok, ["ham", "spam"])  # "spam" is "sp" + "am"


def test_labels_cover_only_the_answer_and_end_of_turn(smollm2):
    _, tok = smollm2
    messages = I.chat_messages(TEXTS[0])
    ids, labels = I.build_example(tok, messages, "Yes")
    prompt = I.prompt_ids(tok, messages)
    assert ids[: len(prompt)] == prompt and len(labels) == len(ids)
    assert all(lab == I.IGNORE for lab in labels[: len(prompt)])
    kept = [t for t in labels if t != I.IGNORE]
    assert tok.decode(kept) == "Yes<|im_end|>"
    assert labels[-1] == I.IGNORE  # the template's trailing newline
    with pytest.raises(ValueError, match="prefix"):
        I.answer_labels([1, 2, 3], [1, 5, 3, 4])


def test_few_shot_prefix_plus_suffix_tokenises_like_the_whole(smollm2):
    _, tok = smollm2
    examples = [(TEXTS[0], "Yes"), (TEXTS[1], "No")]
    fs = I.few_shot_prompts(tok, [TEXTS[2]], examples)
    assert fs.prefix + fs.suffixes[0] == I.prompt_ids(tok, I.chat_messages(TEXTS[2], examples))


@pytest.mark.reference
def test_scorer_shape_prefix_cache_and_reference(smollm2, reference):
    model, tok = smollm2
    answers = I.answer_token_ids(tok)
    prompts = [I.prompt_ids(tok, I.chat_messages(t)) for t in TEXTS]
    ours = I.answer_logits(model, prompts, answers, batch_size=2)
    assert ours.shape == (3, 2) and ours.dtype == np.float32
    with torch.no_grad():  # the full forward pass's last-position logits, one prompt at a time
        full = np.stack([model(torch.tensor([p]))[0][0, -1, answers].numpy() for p in prompts])
    # fp32 round-off through SmolLM2's 30 blocks and its head, relative to the largest logit.
    terms = transformer_roundings(30, 576, 1536, 64, max(map(len, prompts)))
    check_matches("batched answer logits vs one prompt at a time", ours, full, terms=terms)
    check_matches("answer logits vs transformers", I.answer_logits(reference, prompts, answers, batch_size=3), ours,
                  terms=terms)
    examples = [(TEXTS[0], "Yes"), (TEXTS[1], "No")]
    fs = I.few_shot_prompts(tok, TEXTS, examples)
    cached = I.answer_logits(model, fs.suffixes, answers, batch_size=2, prefix=fs.prefix)
    whole = I.answer_logits(model, [fs.prefix + s for s in fs.suffixes], answers, batch_size=3)
    terms = transformer_roundings(30, 576, 1536, 64, max(len(fs.prefix) + len(s) for s in fs.suffixes))
    check_matches("answer logits with a cached prefix", cached, whole, terms=terms)


@pytest.mark.reference
def test_one_lora_step_updates_only_the_adapters_and_merge_keeps_outputs(smollm2):
    base, tok = smollm2
    model = apply_lora(copy.deepcopy(base), TARGETS, r=4, alpha=8)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    examples = [I.build_example(tok, I.chat_messages(t), a) for t, a in zip(TEXTS[:2], ["Yes", "No"], strict=True)]
    ids = I.pad_right([e[0] for e in examples], 0)
    labels = I.pad_right([e[1] for e in examples], I.IGNORE)
    with torch.no_grad():  # the head-only-where-labelled loss equals the plain masked loss
        full_logits, _ = model(ids[:, :-1])
        plain = torch.nn.functional.cross_entropy(full_logits.flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)
        # Same logits at the labelled positions; the mean over them adds ≤ T roundings (loss magnitude ~ log V).
        terms = transformer_roundings(30, 576, 1536, 64, ids.shape[1]) + ids.numel()
        check_matches("answer-only loss vs masked loss", I.answer_loss(model, ids, labels), plain, terms=terms)
    report = I.train_lora(model, examples, steps=1, batch_size=2, lr=1e-2, progress=False)
    assert len(report["loss"]) == 1 and np.isfinite(report["loss"][0])
    for name, p in model.named_parameters():
        changed = not torch.equal(p, before[name])
        assert changed == name.endswith("lora_B"), name  # B moves first (its gradient needs A ≠ 0 only)
    answers = I.answer_token_ids(tok)
    prompts = [I.prompt_ids(tok, I.chat_messages(t)) for t in TEXTS]
    unmerged = I.answer_logits(model, prompts, answers)
    # The blocks' round-off plus merging W + s·B·A (rank 4) in every adapted projection.
    terms = transformer_roundings(30, 576, 1536, 64, max(map(len, prompts))) + 30 * 4
    check_matches("merged vs unmerged answer logits", I.answer_logits(merge_lora(model), prompts, answers), unmerged,
                  terms=terms)


@pytest.mark.reference
def test_our_lora_matches_peft_on_the_real_model(smollm2, reference):
    base, tok = smollm2
    ours = apply_lora(copy.deepcopy(base), TARGETS, r=8, alpha=16)
    theirs = I.peft_lora_model(copy.deepcopy(reference), TARGETS, r=8, alpha=16)
    c_ours, c_theirs = parameter_counts(ours), parameter_counts(theirs)
    assert c_ours["trainable"] == c_theirs["trainable"] == 30 * 8 * (2 * (576 + 576) + 2 * (576 + 192))
    assert c_ours["total"] == c_theirs["total"]
    answers = I.answer_token_ids(tok)
    prompts = [I.prompt_ids(tok, I.chat_messages(t)) for t in TEXTS]
    at_init = I.answer_logits(ours, prompts, answers)
    # The blocks' round-off plus the adapters' rank-8 products in the adapted projections.
    terms = transformer_roundings(30, 576, 1536, 64, max(map(len, prompts))) + 30 * 8
    check_matches("LoRA at B = 0 vs the base model", at_init, I.answer_logits(base, prompts, answers), terms=terms)
    check_matches("our LoRA vs peft at B = 0", I.answer_logits(theirs, prompts, answers), at_init, terms=terms)
    with torch.no_grad():  # give the adapters a real update, the same in both
        g = torch.Generator().manual_seed(0)
        for name, p in ours.named_parameters():
            if name.endswith("lora_B"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
    assert I.copy_lora_to_peft(ours, theirs) == 2 * 4 * 30
    adapted = I.answer_logits(ours, prompts, answers)
    assert np.abs(adapted - at_init).max() > 0.05  # the update matters ...
    check_matches("our LoRA vs peft, adapted", I.answer_logits(theirs, prompts, answers), adapted,
                  terms=terms)  # ... identically


def test_stratified_positions_keep_the_class_share():
    labels = np.array([0] * 87 + [1] * 13)
    pos = I.stratified_positions(labels, 20, seed=0)
    assert len(pos) == 20 and len(set(pos)) == 20 and (np.diff(pos) > 0).all()
    assert labels[pos].sum() == 3  # round(20 * 13 / 100)
    np.testing.assert_array_equal(pos, I.stratified_positions(labels, 20, seed=0))

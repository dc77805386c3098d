"""Checks for chapter 08b's exercises: the answer-only label mask and LoRA's size on a Llama."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import expect, passed


def check_answer_labels(answer_labels: Callable) -> str:
    """`answer_labels(prompt_ids, full_ids)` = -100 on the prompt, the ids on the answer,
    and a ValueError when the prompt is not a prefix of the full sequence."""
    from ..finetuning.instruct import answer_labels as reference

    rng = np.random.default_rng(8)
    for n_prompt, n_answer in [(5, 1), (17, 3), (1, 4), (30, 2)]:
        full = rng.integers(0, 49152, n_prompt + n_answer).tolist()
        prompt = full[:n_prompt]
        got = answer_labels(prompt, full)
        expect(got is not None and len(got) == len(full),
               "return one label per token of the full sequence (prompt + answer)")
        expect([int(t) for t in got] == reference(prompt, full),
               "prompt positions get -100 (ignored by cross_entropy); answer positions keep their token id")
    broken = [1, 2, 3, 4]
    try:
        answer_labels([1, 9], broken)
    except ValueError:
        return passed("answer labels")
    expect(False, "raise ValueError when prompt_ids is not a prefix of full_ids: the mask would be wrong")
    return ""


def check_llama_lora_params(lora_params: Callable) -> str:
    """`lora_params(config, r, targets)` = the adapter parameters apply_lora adds to a Llama."""
    from ..finetuning.lora import apply_lora, parameter_counts
    from ..models.llama import Llama, LlamaConfig

    tiny = LlamaConfig(vocab_size=64, n_layer=3, n_head=4, n_kv_head=2, n_embd=32, n_inner=40, max_seq_len=32)
    cases = [(4, ["q_proj", "v_proj"]), (2, ["k_proj"]), (8, ["q_proj", "k_proj", "v_proj", "o_proj"]),
             (3, ["gate_proj", "up_proj", "down_proj"])]
    for r, targets in cases:
        model = apply_lora(Llama(tiny), targets, r=r)
        want = parameter_counts(model)["trainable"]
        got = lora_params(tiny, r, targets)
        expect(got == want, f"r={r}, targets={targets}: each adapted nn.Linear (in → out) adds r·(in + out); "
                            "k_proj and v_proj output n_kv_head·head_dim (grouped-query attention), the MLP "
                            "projections use n_inner")
    return passed("LoRA parameters on a Llama")


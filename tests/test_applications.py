"""Chapter 10's `smollm2_chat`: the real SmolLM2-135M-Instruct, greedy, with its chat template.

(The spam classifier chapter 10 uses is chapter 08's: `finetuning.classify`, tested in
tests/test_classify.py.)
"""

import pytest
import torch

from bigmodel_lib.applications import smollm2_chat

QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def smollm2():
    from bigmodel_lib.models.pretrained import load_smollm2_reference

    try:
        return load_smollm2_reference()
    except Exception as exc:  # the GGUF is not in the cache or mirror
        pytest.skip(f"SmolLM2 not available: {exc}")


def test_chat_answer_is_the_greedy_continuation_of_the_templated_prompt(smollm2):
    model, tok = smollm2
    answer = smollm2_chat(model, tok, QUESTION, max_new_tokens=10)
    assert "Paris" in answer
    # decode greedily by hand, one token at a time, from the chat-formatted prompt
    ids = tok.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    prompt_len = ids.shape[1]
    with torch.no_grad():
        for _ in range(10):
            nxt = model(ids).logits[0, -1].argmax()
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
            if nxt.item() == tok.eos_token_id:
                break
    assert answer == tok.decode(ids[0, prompt_len:], skip_special_tokens=True).strip()

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


# ---------------------------------------------------------------- question answering, measured

from bigmodel_lib.applications import (  # noqa: E402
    QAItem,
    definition_questions,
    exact_match,
    first_sentence_baseline,
    overlap_baseline,
    token_f1,
)

TOY_TOPICS = {"compound": "Intro text here that is long enough to be a paragraph of the manual, really.\n\n"
                          "Statements are grouped. A suite is a group of statements controlled by a clause. More text.",
              "zz": "It is nothing we can use as a definition because the subject is a pronoun here."}


def test_token_f1_and_exact_match_follow_squad():
    assert exact_match("The executable statement.", "an executable statement") == 1.0
    assert token_f1("an executable statement", "an executable statement") == 1.0
    assert token_f1("a statement", "an executable statement") == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert token_f1("nothing shared", "an executable statement") == 0.0


def test_definition_questions_take_the_predicate_of_a_definition_sentence():
    items = definition_questions(TOY_TOPICS, 5)
    assert items == [QAItem("compound", "a suite", "According to the text, what is a suite?",
                            " ".join(TOY_TOPICS["compound"].split("\n\n")[1].split()),
                            "a group of statements controlled by a clause")]
    assert items[0].answer in items[0].context


def test_definition_questions_on_the_python_manual_are_extractive():
    from bigmodel_lib.data import python_reference_topics

    items = definition_questions(python_reference_topics(), 20)
    assert len(items) == 20 and all(item.answer in item.context for item in items)
    assert len({item.question for item in items}) == 20


def test_baselines_answer_with_sentences_of_the_context():
    item = definition_questions(TOY_TOPICS, 1)[0]
    assert first_sentence_baseline(item) == "Statements are grouped."
    assert overlap_baseline(item) == "A suite is a group of statements controlled by a clause."


def test_smollm2_answer_is_the_first_line_of_its_chat_reply_to_the_qa_prompt(smollm2):
    from bigmodel_lib.applications import QA_PROMPT, smollm2_answer

    model, tok = smollm2
    item = definition_questions(TOY_TOPICS, 1)[0]
    reply = smollm2_chat(model, tok, QA_PROMPT.format(context=item.context, question=item.question), max_new_tokens=12)
    answer = smollm2_answer(model, tok, item, max_new_tokens=12)
    assert answer and "\n" not in answer and not answer.endswith(".")
    assert reply.startswith(answer)

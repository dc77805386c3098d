"""Small helpers for chapter 10's applications that no other module provides.

- `smollm2_chat`: the real SmolLM2-135M-Instruct answering one chat message greedily;
- question answering, measured: `definition_questions` builds extractive questions from a reference
  text (Python's manual), `exact_match` / `token_f1` score answers as SQuAD does, `overlap_baseline`
  is the model-free answer to beat, `smollm2_answer` asks SmolLM2.

Everything else chapter 10 uses comes from the modules that earlier chapters built:
`training.course_gpt` (chapter 07's GPT), `finetuning.classify` (chapter 08's spam classifier:
`load_classifier`, `predict`), `models.vision` + `models.fitting` (chapter 05's CNN),
`models.sentence_embeddings` (search), `data.text` (PII), `models.pretrained` (SmolLM2),
`data.audio` / `models.audio_cnn` (speech), `quantization` and `sizing` (the challenges).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import torch


@torch.no_grad()
def smollm2_chat(model, tokenizer, prompt: str, max_new_tokens: int = 48) -> str:
    """Greedy answer of the instruct model to one user message (its chat template applied)."""
    messages = [{"role": "user", "content": prompt}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids = {k: v.to(model.device) for k, v in ids.items()}
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()


# ---------------------------------------------------------------- question answering, measured

_DEFINITION = re.compile(r"^(?P<subject>(?:An? |The )?[A-Za-z-]+(?: [a-z-]+){0,2}) (?P<verb>is|are) "
                         r"(?P<answer>[^.;:()\"“”]{12,90})\.$")
_NOT_A_SUBJECT = {"it", "this", "that", "these", "there", "if", "when", "for", "all", "how", "note", "such",
                  "called", "otherwise", "because", "the", "each", "any", "its", "one", "some", "here", "then",
                  "they", "we", "below", "unless", "list", "name", "target", "result", "syntax", "arguments",
                  "expressions", "programs", "explanation"}


@dataclass(frozen=True)
class QAItem:
    """One extractive question about `subject`: the `answer` is a span of `context`, a paragraph of `topic`."""

    topic: str
    subject: str
    question: str
    context: str
    answer: str


def definition_questions(topics: dict[str, str], n: int, per_topic: int = 3,
                         max_context_chars: int = 600) -> list[QAItem]:
    """Up to `n` questions "What is <subject>?" built from definition sentences of a reference text.

    A sentence "A suite is a group of statements controlled by a clause." in a paragraph of topic
    "compound" becomes the question "According to the text, what is a suite?", whose answer is the
    predicate, and the paragraph is the context: real text, no hand-written answers. At most
    `per_topic` questions per topic (topics in sorted order) and one per subject, so the items
    spread over the manual.
    """
    items, seen = [], set()
    for topic in sorted(topics):
        found = 0
        for paragraph in (" ".join(p.split()) for p in topics[topic].split("\n\n")):
            if not 80 <= len(paragraph) <= max_context_chars or paragraph.startswith(("*", "-", ">>>", "[")):
                continue
            item = _definition_in(topic, paragraph, seen)
            if item:
                items.append(item)
                found += 1
                if len(items) == n:
                    return items
                if found == per_topic:
                    break
    return items


def _definition_in(topic: str, paragraph: str, seen: set[str]) -> QAItem | None:
    for sentence in sentences(paragraph):
        match = _DEFINITION.match(sentence)
        if not match:
            continue
        words = match["subject"].lower().split()
        if words[-1] in _NOT_A_SUBJECT or (words[0] in _NOT_A_SUBJECT and words[0] != "the"):
            continue
        subject = " ".join(words)
        if subject in seen:
            continue
        seen.add(subject)
        question = f"According to the text, what {match['verb']} {subject}?"
        return QAItem(topic, subject, question, paragraph, match["answer"].strip())
    return None


def normalize_answer(text: str) -> list[str]:
    """SQuAD's normalisation, as words: lower case, punctuation and the articles a/an/the removed."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return [w for w in text.split() if w not in {"a", "an", "the"}]


def exact_match(prediction: str, answer: str) -> float:
    """1.0 when the normalised prediction equals the normalised answer, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(answer))


def token_f1(prediction: str, answer: str) -> float:
    """SQuAD's word-overlap F1: harmonic mean of the precision and recall of shared words (with counts)."""
    pred, gold = normalize_answer(prediction), normalize_answer(answer)
    shared = sum((Counter(pred) & Counter(gold)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(pred), shared / len(gold)
    return 2 * precision * recall / (precision + recall)


def sentences(text: str) -> list[str]:
    """`text` cut after each full stop that is followed by a space and a capital letter."""
    return re.split(r"(?<=\.) (?=[A-Z])", text)


def first_sentence_baseline(item: QAItem) -> str:
    """A model-free answer: the context's first sentence."""
    return sentences(item.context)[0]


def overlap_baseline(item: QAItem) -> str:
    """A model-free answer: the whole context sentence sharing the most words with the question."""
    question = set(normalize_answer(item.question))
    return max(sentences(item.context), key=lambda s: len(question & set(normalize_answer(s))))


QA_PROMPT = "{context}\n\n{question} Answer with a short phrase copied from the text."


def smollm2_answer(model, tokenizer, item: QAItem, max_new_tokens: int = 24) -> str:
    """SmolLM2's greedy answer to `item`, its first line only, with a trailing full stop dropped."""
    reply = smollm2_chat(model, tokenizer, QA_PROMPT.format(context=item.context, question=item.question),
                         max_new_tokens=max_new_tokens)
    return reply.split("\n")[0].strip().rstrip(".")

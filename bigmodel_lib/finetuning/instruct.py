"""Instruction-style classification with a chat LLM: prompts, answer-only labels, scoring, LoRA.

A chat model answers the question "is this SMS spam?" in words. Everything here works on
token ids from the model's own chat template (SmolLM2's `<|im_start|>role ... <|im_end|>`):

    tok = load_smollm2_tokenizer()
    answers = answer_token_ids(tok)                         # ids of "No" (ham) and "Yes" (spam)
    prompt = prompt_ids(tok, chat_messages(text))           # system + question + message
    ids, labels = build_example(tok, chat_messages(text), "Yes")   # labels -100 on the prompt
    logits = answer_logits(model, [prompt, ...], answers)   # (N, 2): column 1 = spam
    losses = train_lora(model, examples, steps=40)          # adapters only, loss on the answer

We score a method by the model's next-token logits for the two answer words after the prompt,
not by parsing free text: one forward pass per message, no sampling, a number for every
message (a free answer may be "Yes.", "This is spam", or ramble), and a score we can rank,
threshold and calibrate (chapter 09). The answer words are single tokens, so the first
token's logit *is* the answer's log-probability (up to the shared normaliser).

`model` is our from-scratch `bigmodel_lib.models.llama.Llama` or a `transformers` causal LM
(also wrapped by `peft`). Batches are right-padded: with a causal mask a real token never
attends to the padding after it, so no attention mask is needed and positions stay correct.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..training.batches import pad_right, training_batches

SYSTEM = "You are a careful assistant that filters SMS messages."
QUESTION = "Is the following SMS message spam? Answer yes or no."
ANSWERS = ("No", "Yes")  # the model starts its answers capitalised; column 0 = ham (label 0), column 1 = spam (label 1)
IGNORE = -100  # label of positions that do not count in the loss


# --- prompts ------------------------------------------------------------------------------


def truncate_text(tokenizer, text: str, max_tokens: int) -> str:
    """`text` cut to its first `max_tokens` tokens (short prompts keep CPU time down)."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    return text if len(ids) <= max_tokens else tokenizer.decode(ids[:max_tokens]).rstrip() + " …"


def user_turn(text: str, question: str = QUESTION) -> str:
    return f"{question}\nSMS: {text}"


def chat_messages(text: str, examples: Sequence[tuple[str, str]] = (), system: str = SYSTEM,
                  question: str = QUESTION) -> list[dict]:
    """The conversation for one message: a system turn, then each few-shot example as a
    (user question, assistant answer) pair, then the question about `text`."""
    messages = [{"role": "system", "content": system}]
    for example_text, answer in examples:
        messages += [{"role": "user", "content": user_turn(example_text, question)},
                     {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": user_turn(text, question)}]


def chat_text(tokenizer, messages: list[dict], add_generation_prompt: bool = True) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def encode(tokenizer, text: str) -> list[int]:
    """Token ids of text that already carries the template's special tokens (no BOS added)."""
    return tokenizer.encode(text, add_special_tokens=False)


def prompt_ids(tokenizer, messages: list[dict]) -> list[int]:
    """Ids of the conversation up to and including `<|im_start|>assistant\\n`: the model's
    next token is the first token of its answer."""
    return encode(tokenizer, chat_text(tokenizer, messages, add_generation_prompt=True))


def answer_token_ids(tokenizer, answers: Sequence[str] = ANSWERS) -> list[int]:
    """The single token id of each answer word; an error if a word splits into several tokens
    (then its first token's logit would not be the word's probability)."""
    ids = []
    for word in answers:
        pieces = tokenizer.encode(word, add_special_tokens=False)
        if len(pieces) != 1:
            raise ValueError(f"Answer {word!r} is {len(pieces)} tokens {pieces}; choose words that are one token each.")
        ids.append(pieces[0])
    return ids


def answer_labels(prompt: Sequence[int], full: Sequence[int]) -> list[int]:
    """Labels for `full` = prompt + answer: IGNORE on every prompt token, the token id on
    the answer. `prompt` must be a prefix of `full`."""
    n = len(prompt)
    if list(full[:n]) != list(prompt):
        raise ValueError("The prompt's ids are not a prefix of the full conversation's ids.")
    return [IGNORE] * n + list(full[n:])


def build_example(tokenizer, messages: list[dict], answer: str) -> tuple[list[int], list[int]]:
    """(ids, labels) of the conversation plus the assistant's `answer`. The loss covers the
    answer and the end-of-turn token `<|im_end|>` (so the model learns to stop); the prompt
    and the template's trailing newline are masked with IGNORE."""
    prompt = prompt_ids(tokenizer, messages)
    full = encode(tokenizer, chat_text(tokenizer, messages + [{"role": "assistant", "content": answer}],
                                       add_generation_prompt=False))
    labels = answer_labels(prompt, full)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    last = max(i for i, t in enumerate(full) if t == end)
    labels[last + 1:] = [IGNORE] * (len(full) - last - 1)  # the "\n" after <|im_end|>
    return full, labels


@dataclass
class FewShotPrompts:
    """Few-shot prompts split into the shared prefix (system + examples) and one suffix per
    message; prefix + suffix tokenises exactly like the whole conversation."""

    prefix: list[int]
    suffixes: list[list[int]]


def few_shot_prompts(tokenizer, texts: Sequence[str], examples: Sequence[tuple[str, str]]) -> FewShotPrompts:
    shared = chat_text(tokenizer, chat_messages("", examples)[:-1], add_generation_prompt=False)
    suffixes = []
    for text in texts:
        whole = chat_text(tokenizer, chat_messages(text, examples))
        if not whole.startswith(shared):
            raise ValueError("The chat template does not render the examples as a shared prefix.")
        suffixes.append(encode(tokenizer, whole[len(shared):]))
    return FewShotPrompts(encode(tokenizer, shared), suffixes)


# --- the model: ours or transformers' ------------------------------------------------------


def _is_ours(model: nn.Module) -> bool:
    from ..models.llama import Llama

    return isinstance(model, Llama)


def _hf_parts(model: nn.Module) -> tuple[nn.Module, nn.Module]:
    """(decoder body, lm_head) of a transformers causal LM, possibly wrapped by peft."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model, base.lm_head


def final_hidden(model: nn.Module, ids: torch.Tensor, cache=None) -> torch.Tensor:
    """Normalised last-layer hidden states (B, T, C), without the (V-wide) output head."""
    if _is_ours(model):
        return model.hidden_states(ids, cache)
    if cache is not None:
        raise ValueError("A shared-prefix cache is only implemented for our Llama.")
    body, _ = _hf_parts(model)
    return body(input_ids=ids).last_hidden_state


def _head_rows(model: nn.Module, token_ids: Sequence[int]) -> torch.Tensor:
    head = model.lm_head if _is_ours(model) else _hf_parts(model)[1]
    return head.weight[list(token_ids)]  # (A, C): only the answers' rows of the output head


@torch.no_grad()
def answer_logits(model: nn.Module, prompts: Sequence[Sequence[int]], answer_ids: Sequence[int],
                  batch_size: int = 16, prefix: Sequence[int] | None = None, progress: bool = False) -> np.ndarray:
    """Next-token logits of the answer tokens after each prompt: (N, len(answer_ids)).

    With `prefix` (our Llama only), the shared prefix runs once into a KV cache that every
    prompt continues; prompts are then the suffixes. Prompts are batched by length."""
    from ..models.attention import KVCache

    model.eval()
    device = next(model.parameters()).device
    rows = _head_rows(model, answer_ids).float()  # (A, C)
    prefix_cache = None
    if prefix:
        prefix_cache = KVCache(model.config.n_layer)
        final_hidden(model, torch.tensor([list(prefix)], device=device), prefix_cache)
    order = np.argsort([len(p) for p in prompts], kind="stable")
    out = np.zeros((len(prompts), len(answer_ids)), dtype=np.float32)
    starts = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="scoring", leave=False)
    for s in starts:
        idx = order[s:s + batch_size]
        seqs = [prompts[i] for i in idx]
        ids = pad_right(seqs, 0).to(device)  # (B, T)
        cache = None
        if prefix_cache is not None:
            cache = KVCache(model.config.n_layer)
            for layer, prefix_layer in zip(cache.layers, prefix_cache.layers, strict=True):
                layer.k, layer.v = (t.expand(len(idx), -1, -1, -1) for t in (prefix_layer.k, prefix_layer.v))
        hidden = final_hidden(model, ids, cache)  # (B, T, C)
        last = torch.tensor([len(s) - 1 for s in seqs], device=device)
        h = hidden[torch.arange(len(idx), device=device), last].float()  # (B, C)
        out[idx] = (h @ rows.T).cpu().numpy()
    return out


def answer_loss(model: nn.Module, ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of next-token predictions on the labelled (answer) positions.

    The same computation for our Llama and a transformers model. The 49,152-wide output head
    runs only where a label is kept (a few positions per conversation), not at every prompt
    token: the same loss as `cross_entropy(all logits, labels, ignore_index=-100)`, ~20% cheaper."""
    inputs, targets = ids[:, :-1], labels[:, 1:]  # position t predicts token t + 1
    keep = targets != IGNORE  # (B, T-1)
    if not keep.any():
        raise ValueError("No labelled positions in this batch: every label is -100.")
    hidden = final_hidden(model, inputs)[keep]  # (n, C)
    head = model.lm_head if _is_ours(model) else _hf_parts(model)[1]
    logits = head(hidden)  # (n, V)
    return F.cross_entropy(logits.float(), targets[keep])


def train_lora(model: nn.Module, examples: Sequence[tuple[Sequence[int], Sequence[int]]], *, steps: int,
               batch_size: int = 8, lr: float = 1e-3, seed: int = 0, progress: bool = True,
               desc: str = "LoRA") -> dict:
    """AdamW on the trainable parameters only (the adapters), answer-masked loss.
    Returns {"loss": per-step losses, "seconds": wall time}."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("No trainable parameters: apply LoRA (or unfreeze something) first.")
    device = params[0].device
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    batches = training_batches(len(examples), batch_size, steps, seed)
    model.train()
    losses: list[float] = []
    started = time.perf_counter()
    steps_iter = batches
    if progress:
        from tqdm.auto import tqdm

        steps_iter = tqdm(batches, desc=desc, leave=True)
    for idx in steps_iter:
        ids = pad_right([examples[i][0] for i in idx], 0).to(device)
        labels = pad_right([examples[i][1] for i in idx], IGNORE).to(device)
        loss = answer_loss(model, ids, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress:
            steps_iter.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return {"loss": losses, "seconds": time.perf_counter() - started}


# --- peft on transformers' Llama, matched to our LoRA ----------------------------------------


def peft_lora_model(hf_model: nn.Module, target_modules: Sequence[str], r: int = 8, alpha: float = 16.0):
    """transformers causal LM wrapped by peft's LoRA with the same rank, alpha and targets."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=list(target_modules), lora_dropout=0.0,
                        bias="none", task_type="CAUSAL_LM")
    return get_peft_model(hf_model, config)


def _ours_name(peft_name: str) -> str:
    """peft's `base_model.model.model.layers.3.self_attn.q_proj.lora_A.default.weight`
    → our `layers.3.attn.q_proj.lora_A`."""
    from ..models.llama import hf_to_ours

    module, _, rest = peft_name.removeprefix("base_model.model.").partition(".lora_")
    which = "lora_" + rest.split(".")[0]
    return hf_to_ours(module + ".weight").removesuffix(".weight") + "." + which


@torch.no_grad()
def copy_lora_to_peft(ours: nn.Module | dict[str, torch.Tensor], peft_model: nn.Module) -> int:
    """Copy our adapters' A and B (a model, or its `lora_state_dict`) into the peft model: the
    same start, so any later difference is the implementation's. Returns the tensors copied."""
    mine = dict(ours.named_parameters()) if isinstance(ours, nn.Module) else dict(ours)
    copied = 0
    for name, p in peft_model.named_parameters():
        if ".lora_A." in name or ".lora_B." in name:
            p.copy_(mine[_ours_name(name)])
            copied += 1
    if copied != sum(1 for n in mine if n.endswith(("lora_A", "lora_B"))):
        raise ValueError("Our model and the peft model do not adapt the same layers.")
    return copied


@torch.no_grad()
def generate_answer(model: nn.Module, tokenizer, prompt: Sequence[int], max_new_tokens: int = 12) -> str:
    """Greedy free-text answer of our Llama to one prompt (for reading, not for scoring)."""
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    device = next(model.parameters()).device
    out = model.generate(torch.tensor([list(prompt)], device=device), max_new_tokens, eos_token_id=end)
    return tokenizer.decode(out[0, len(prompt):], skip_special_tokens=True).strip()


def stratified_positions(labels, n: int, seed: int = 0) -> np.ndarray:
    """`n` sorted positions into `labels`, drawn with each class's share kept (fixed seed)."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    picked = []
    classes = np.unique(labels)
    for i, c in enumerate(classes):
        pool = np.flatnonzero(labels == c)
        k = round(n * len(pool) / len(labels)) if i < len(classes) - 1 else n - sum(len(p) for p in picked)
        picked.append(rng.choice(pool, size=max(1, min(k, len(pool))), replace=False))
    return np.sort(np.concatenate(picked))

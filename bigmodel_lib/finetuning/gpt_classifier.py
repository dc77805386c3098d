"""A classification head on our character-level GPT (chapter 07), for fine-tuning in chapter 08.

    gpt, char_tok, _ = course_gpt(device)                       # pretrained on Tiny Shakespeare
    model = GPTClassifier(gpt, n_classes=2, pool="mean")        # or random_gpt_like(gpt) for the control
    ids = encode_chars(char_tok, texts, max_length=64)          # id lists, ≤ block_size characters
    report = train_classifier(model, ids, labels, steps=300, lr=5e-4)   # classify.py's loop works as is

Two mismatches between Shakespeare and SMS / review text are handled explicitly:

- **Characters the GPT never saw** (digits other than 3, £, accents, emoji …): accents are folded away
  (NFKD, é → e); everything else maps to one new `unk` id, whose embedding row is added to the GPT
  and starts at the mean of the others. `unknown_rate()` says how often that happens.
- **Context**: the recipe GPT has 64 positions, so texts are cut to their first `max_length` characters.

The GPT is causal, so with right padding the real positions never attend to padding; pooling
("last": the hidden state of the last real character, which has seen all of them; "mean": the
average over real characters) then ignores the padding too.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Iterable

import torch
from torch import nn

from ..models.gpt import GPT
from ..tokenizers.char import CharTokenizer
from .classify import mean_pool

POOLS = ("last", "mean")


def fold_char(ch: str, vocab: set[str]) -> str:
    """`ch` if the GPT knows it, else its accent-free form if that is known, else ''."""
    if ch in vocab:
        return ch
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base and all(c in vocab for c in base) else ""


def encode_chars(tokenizer: CharTokenizer, texts: Iterable[str], max_length: int = 64) -> list[list[int]]:
    """Character ids for each text, its first `max_length` characters; unknown characters → unk id.

    The unk id is `len(tokenizer.chars)`: one past the GPT's vocabulary (see `GPTClassifier`)."""
    vocab = set(tokenizer.chars)
    unk = len(tokenizer.chars)
    out = []
    for text in texts:
        ids: list[int] = []
        for ch in str(text):
            folded = fold_char(ch, vocab)
            ids += [tokenizer.stoi[c] for c in folded] if folded else [unk]
            if len(ids) >= max_length:
                break
        out.append(ids[:max_length] or [unk])  # an empty text still gets one position
    return out


def unknown_rate(tokenizer: CharTokenizer, texts: Iterable[str]) -> float:
    """Fraction of characters (after accent folding) that the GPT's vocabulary lacks."""
    vocab = set(tokenizer.chars)
    total = unknown = 0
    for text in texts:
        for ch in str(text):
            total += 1
            unknown += not fold_char(ch, vocab)
    return unknown / max(total, 1)


def random_gpt_like(gpt: GPT, seed: int = 0) -> GPT:
    """The same architecture, freshly initialised: the control that shows what pretraining buys."""
    torch.manual_seed(seed)
    return type(gpt)(copy.deepcopy(gpt.config))  # GPT or ModernGPT, as pretrained


class GPTClassifier(nn.Module):
    """GPT body (a copy; one extra `unk` embedding row, no LM head) → pooling → dropout → linear head.

    forward(ids (B, T), mask (B, T)) → logits (B, n_classes): the interface `classify.train_classifier`
    and `classify.predict_logits` expect.
    """

    def __init__(self, gpt: GPT, n_classes: int, pool: str = "mean", dropout: float = 0.1):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"Unknown pool {pool!r}; choose one of {POOLS}.")
        self.gpt = copy.deepcopy(gpt)
        old = self.gpt.transformer.wte.weight.detach()  # (V, C), tied to lm_head in the LM
        wte = nn.Embedding(old.shape[0] + 1, old.shape[1]).to(old.device)
        with torch.no_grad():
            wte.weight[:-1] = old
            wte.weight[-1] = old.mean(0)  # unk starts as the average character
        self.gpt.transformer.wte = wte
        self.gpt.lm_head = nn.Identity()  # not needed to classify; drops the tied (V, C) copy
        self.pool = pool
        self.n_classes = n_classes
        self.block_size = gpt.config.block_size
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(gpt.config.n_embd, n_classes)

    def embed(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, C)
        if ids.shape[1] > self.block_size:
            raise ValueError(f"{ids.shape[1]} characters > the GPT's context of {self.block_size}: "
                             f"encode with encode_chars(..., max_length={self.block_size}).")
        h = self.gpt.hidden_states(ids)  # (B, T, C), causal: padding on the right is never attended to
        if self.pool == "mean":
            return mean_pool(h, mask)
        last = mask.long().sum(1).clamp(min=1) - 1  # (B,) index of the last real character
        return h[torch.arange(h.shape[0], device=h.device), last]

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, n_classes)
        return self.head(self.dropout(self.embed(ids, mask)))


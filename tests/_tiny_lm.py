"""A tiny causal language model for the trainer tests (fast, with dropout and `Block`s).

Temporary stand-in with the nanoGPT interface `model(idx, targets) -> (logits, loss)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = nn.MultiheadAttention(n_embd, n_head, dropout=dropout, batch_first=True)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout))

    def forward(self, x):
        t = x.size(1)
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), 1)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class TinyLM(nn.Module):
    def __init__(self, vocab_size: int, block_size: int = 16, n_embd: int = 32, n_head: int = 2, n_layer: int = 2,
                 dropout: float = 0.0):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, like GPT
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)

    def forward(self, idx, targets=None):
        pos = torch.arange(idx.size(1), device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


def shakespeare_tokens(n_chars: int = 30_000) -> tuple[torch.Tensor, int]:
    """The first characters of Tiny Shakespeare as ids (real data, small)."""
    from bigmodel_lib.data import load_tiny_shakespeare

    text = load_tiny_shakespeare()[:n_chars]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return torch.tensor([index[c] for c in text]), len(chars)


class FixedBatches:
    """Serves a list of (x, y) batches in order, optionally cut into micro-batches."""

    def __init__(self, batches, split_into: int = 1):
        self.queue = []
        for x, y in batches:
            self.queue += list(zip(x.chunk(split_into), y.chunk(split_into), strict=True))
        self.position = 0

    def get_batch(self, split, batch_size, generator=None):
        if generator is not None:  # evaluation: always the first batch
            return self.queue[0]
        x, y = self.queue[self.position]
        assert len(x) == batch_size, (len(x), batch_size)
        self.position += 1
        return x, y


def one_thread():
    """Run a test on one CPU thread (restored after): tiny models gain nothing from more, and on a
    busy machine OpenMP threads waiting for each other make them many times slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

"""Fixtures for the training tests: a tiny GPT, real Tiny Shakespeare ids, fixed batches."""

from __future__ import annotations

import torch


def tiny_gpt(vocab_size: int, block_size: int = 16, n_embd: int = 32, n_head: int = 2, n_layer: int = 2,
           dropout: float = 0.0):
    """A tiny GPT from `bigmodel_lib.models.gpt` (fast enough for many short runs)."""
    from bigmodel_lib.models.gpt import GPT, GPTConfig

    return GPT(GPTConfig(block_size=block_size, vocab_size=vocab_size, n_layer=n_layer, n_head=n_head,
                         n_embd=n_embd, dropout=dropout))


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

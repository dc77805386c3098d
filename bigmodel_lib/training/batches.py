"""Batches: random training windows from a 1-D token tensor (with a resumable position), and
index batches and padding for lists of token ids of different lengths (classifiers, fine-tuning).

The trainer asks a batch source for `get_batch(split, batch_size) -> (x, y)`. `TokenWindows`
is the simplest one: each batch is `batch_size` random windows of `block_size + 1` tokens,
drawn with its own `torch.Generator`. Its `state_dict()` is the generator state, so a resumed
run draws exactly the batches the uninterrupted run would have drawn ("data position").

Distributed: every rank draws the same *global* batch (same seed) and keeps its own slice, so
a 2-process run sees exactly the examples of a 1-process run with twice the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


class TokenWindows:
    """Batches of next-token windows from `train` / `val` token tensors (1-D, integer)."""

    def __init__(
        self,
        train: torch.Tensor,
        val: torch.Tensor,
        block_size: int,
        *,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | str = "cpu",
    ):
        for name, tokens in (("train", train), ("val", val)):
            if tokens.ndim != 1:
                raise ValueError(f"{name} tokens must be 1-D, got shape {tuple(tokens.shape)}.")
            if len(tokens) <= block_size + 1:
                raise ValueError(f"{name} has {len(tokens)} tokens: too few for block_size={block_size}.")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}.")
        self.splits = {"train": train.long(), "val": val.long()}
        self.block_size = block_size
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)

    def get_batch(
        self, split: str, batch_size: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y), both (batch_size, block_size); y is x shifted by one token.

        `batch_size` is this process's share; the global batch is `batch_size * world_size`.
        Pass `generator` to draw without moving the training position (evaluation does).
        """
        if split not in self.splits:
            raise ValueError(f"Unknown split {split!r}: use 'train' or 'val'.")
        tokens = self.splits[split]
        global_batch = batch_size * self.world_size
        starts = torch.randint(len(tokens) - self.block_size - 1, (global_batch,), generator=generator or self.generator)
        starts = starts[self.rank * batch_size : (self.rank + 1) * batch_size]  # this rank's slice
        offsets = torch.arange(self.block_size + 1)
        windows = tokens[starts[:, None] + offsets]  # (B, T+1)
        x, y = windows[:, :-1], windows[:, 1:]
        if self.device.type == "cuda":
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x.to(self.device), y.to(self.device)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def split_tokens(tokens: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """First (1 - val_fraction) for training, the rest for validation (nanoGPT's split)."""
    n = int(len(tokens) * (1 - val_fraction))
    return tokens[:n], tokens[n:]


def pad_right(seqs: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    """(B, T) tensor of id (or label) lists right-padded with `value` to the longest."""
    T = max(len(s) for s in seqs)
    out = torch.full((len(seqs), T), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists to the longest one: ids (B, T) and attention mask (B, T)."""
    return pad_right(seqs, pad_id), pad_right([[1] * len(s) for s in seqs], 0)


def length_batches(lengths: Sequence[int], batch_size: int, shuffle: bool, seed: int = 0) -> list[np.ndarray]:
    """Index batches of similar lengths (little padding); batch order shuffled when training."""
    lengths = np.asarray(lengths)
    if shuffle:
        rng = np.random.default_rng(seed)
        noisy = lengths + rng.random(len(lengths))  # random order among equal lengths
        order = np.argsort(noisy, kind="stable")
    else:
        order = np.argsort(lengths, kind="stable")
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def training_batches(n_examples: int, batch_size: int, steps: int, seed: int = 0) -> list[np.ndarray]:
    """`steps` index batches drawn by walking shuffled passes over the examples."""
    rng = np.random.default_rng(seed)
    order: list[int] = []
    while len(order) < steps * batch_size:
        order += rng.permutation(n_examples).tolist()
    return [np.asarray(order[i * batch_size:(i + 1) * batch_size]) for i in range(steps)]

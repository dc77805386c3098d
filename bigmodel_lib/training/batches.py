"""Random training windows from a 1-D token tensor, with a resumable position.

The trainer asks a batch source for `get_batch(split, batch_size) -> (x, y)`. `TokenWindows`
is the simplest one: each batch is `batch_size` random windows of `block_size + 1` tokens,
drawn with its own `torch.Generator`. Its `state_dict()` is the generator state, so a resumed
run draws exactly the batches the uninterrupted run would have drawn ("data position").

Distributed: every rank draws the same *global* batch (same seed) and keeps its own slice, so
a 2-process run sees exactly the examples of a 1-process run with twice the batch.
"""

from __future__ import annotations

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

"""Language-model batches from a stream of token ids: x = ids[s : s+T], y = ids[s+1 : s+T+1].

Two ways to cut the stream:
  - sliding windows: a window starts every `stride` tokens (stride < block_size overlaps);
  - packed sequences: documents joined with an end-of-text id, cut into non-overlapping
    blocks (`pack_documents`, then stride = block_size).

The same windows, in the same order, come from PyTorch (`torch_lm_loader`) and from tf.data
(`tf_lm_dataset`): both read the window order from `window_order`, a NumPy permutation fixed by
the seed and epoch. `random_batches` is the nanoGPT-style sampler for training loops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pack_documents(documents: Sequence[Sequence[int]], eos_id: int) -> list[int]:
    """One stream: each document's ids followed by `eos_id` (so the model learns where texts end)."""
    stream: list[int] = []
    for doc in documents:
        stream.extend(int(i) for i in doc)
        stream.append(int(eos_id))
    return stream


def window_starts(n_tokens: int, block_size: int, stride: int | None = None) -> np.ndarray:
    """Start offsets of every full (x, y) window: each needs block_size + 1 tokens."""
    stride = block_size if stride is None else stride
    if block_size < 1 or stride < 1:
        raise ValueError(f"block_size and stride must be ≥ 1, got {block_size} and {stride}.")
    last = n_tokens - (block_size + 1)
    if last < 0:
        raise ValueError(f"{n_tokens} tokens cannot fill one window of block_size {block_size} (+1 for the target).")
    return np.arange(0, last + 1, stride, dtype=np.int64)


def window_order(n_windows: int, shuffle: bool = True, seed: int = 0, epoch: int = 0) -> np.ndarray:
    """The order in which windows are visited: a permutation fixed by (seed, epoch), or 0..n-1."""
    if not shuffle:
        return np.arange(n_windows, dtype=np.int64)
    return np.random.default_rng([seed, epoch]).permutation(n_windows).astype(np.int64)


class LMWindowDataset:
    """A `torch.utils.data.Dataset` of (x, y) windows over a 1-D stream of token ids."""

    def __init__(self, ids, block_size: int, stride: int | None = None):
        import torch

        self.ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))  # (N,)
        self.block_size = block_size
        self.starts = window_starts(len(self.ids), block_size, stride)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int):
        s = int(self.starts[index])
        chunk = self.ids[s : s + self.block_size + 1]  # (T+1,)
        return chunk[:-1], chunk[1:]  # x (T,), y (T,)


def torch_lm_loader(
    ids,
    block_size: int,
    batch_size: int,
    stride: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = False,
):
    """A `torch.utils.data.DataLoader` of (x, y) LongTensor batches of shape (B, T)."""
    from torch.utils.data import DataLoader

    dataset = LMWindowDataset(ids, block_size, stride)
    order = window_order(len(dataset), shuffle, seed, epoch).tolist()
    return DataLoader(dataset, batch_size=batch_size, sampler=order, drop_last=drop_last)


def tf_lm_dataset(
    ids,
    block_size: int,
    batch_size: int,
    stride: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = False,
):
    """A `tf.data.Dataset` of (x, y) int64 batches of shape (B, T), windows in `window_order`."""
    import tensorflow as tf

    array = np.asarray(ids, dtype=np.int64)
    starts = window_starts(len(array), block_size, stride)
    order = window_order(len(starts), shuffle, seed, epoch)
    stream = tf.constant(array)

    def cut(start):
        chunk = stream[start : start + block_size + 1]  # (T+1,)
        return chunk[:-1], chunk[1:]

    dataset = tf.data.Dataset.from_tensor_slices(starts[order]).map(cut)
    return dataset.batch(batch_size, drop_remainder=drop_last).prefetch(tf.data.AUTOTUNE)


def tf_lm_windows(ids, block_size: int, batch_size: int, stride: int | None = None, drop_last: bool = False):
    """Sequential windows the idiomatic tf.data way (`Dataset.window`), without an index: same
    windows as `tf_lm_dataset(..., shuffle=False)`."""
    import tensorflow as tf

    stride = block_size if stride is None else stride
    window_starts(len(ids), block_size, stride)  # same argument checks
    windows = (
        tf.data.Dataset.from_tensor_slices(np.asarray(ids, dtype=np.int64))
        .window(block_size + 1, shift=stride, drop_remainder=True)
        .flat_map(lambda w: w.batch(block_size + 1))
    )
    return windows.map(lambda c: (c[:-1], c[1:])).batch(batch_size, drop_remainder=drop_last)


def random_batches(ids, block_size: int, batch_size: int, generator=None, device=None):
    """One batch of `batch_size` windows at random offsets (nanoGPT's get_batch).

    ids: a 1-D LongTensor (or anything `torch.as_tensor` takes). Returns x, y of shape (B, T)
    on `device`; pass a seeded `torch.Generator` for a reproducible sequence of batches.
    """
    import torch

    ids = torch.as_tensor(ids, dtype=torch.long)
    high = len(ids) - block_size
    if high < 1:
        raise ValueError(f"{len(ids)} tokens are too few for block_size {block_size}.")
    offsets = torch.randint(high, (batch_size,), generator=generator)
    x = torch.stack([ids[o : o + block_size] for o in offsets.tolist()])  # (B, T)
    y = torch.stack([ids[o + 1 : o + 1 + block_size] for o in offsets.tolist()])  # (B, T)
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y

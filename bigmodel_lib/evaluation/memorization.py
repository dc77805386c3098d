"""Does a language model reproduce its training text? A verbatim-continuation test.

Take windows of real text, give the model the first `prefix_len` tokens, decode greedily
`suffix_len` more, and compare with what the text really says next. Run it on training
windows and on held-out (validation) windows: the gap is memorisation, not just fluency.

    gen = lambda prefixes, n: model.generate(prefixes, n, temperature=0)[:, -n:]
    report = verbatim_rate(gen, train_ids, starts, prefix_len=32, suffix_len=32)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class MemorizationReport:
    exact: float  # fraction of windows whose whole suffix was reproduced
    mean_matched: float  # mean number of leading suffix tokens reproduced
    token_accuracy: float  # fraction of suffix tokens equal position by position
    n: int


def window_starts(n_tokens: int, window: int, count: int, seed: int = 0) -> np.ndarray:
    """`count` distinct random start positions for windows of `window` tokens in a text of `n_tokens`."""
    if n_tokens < window:
        raise ValueError(f"text of {n_tokens} tokens is shorter than one window of {window}.")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_tokens - window + 1, size=min(count, n_tokens - window + 1), replace=False))


def matched_prefix_lengths(generated: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(N, S), (N, S) → (N,) how many leading tokens agree before the first difference."""
    same = (generated == truth).int()  # (N, S)
    return same.cumprod(dim=1).sum(dim=1)


def verbatim_rate(generate: Callable[[torch.Tensor, int], torch.Tensor], ids: torch.Tensor, starts,
                  prefix_len: int = 32, suffix_len: int = 32, batch_size: int = 64) -> MemorizationReport:
    """Greedy continuation vs the true continuation for windows of the 1-D token tensor `ids`.

    `generate(prefixes (B, prefix_len), n)` must return the n new tokens (B, n).
    """
    window = prefix_len + suffix_len
    rows = torch.stack([ids[s:s + window] for s in starts])  # (N, window)
    matched, equal = [], []
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        new = generate(chunk[:, :prefix_len], suffix_len).cpu()  # (B, suffix_len)
        truth = chunk[:, prefix_len:]
        matched.append(matched_prefix_lengths(new, truth))
        equal.append((new == truth).float().mean(dim=1))
    matched_t, equal_t = torch.cat(matched), torch.cat(equal)
    return MemorizationReport(
        exact=float((matched_t == suffix_len).float().mean()),
        mean_matched=float(matched_t.float().mean()),
        token_accuracy=float(equal_t.mean()),
        n=len(rows),
    )

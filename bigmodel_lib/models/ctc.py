"""Connectionist Temporal Classification (CTC, Graves et al. 2006), written out for chapter 10.

A speech model emits, for each of T frames, log-probabilities over C symbols: the labels and a
*blank* (∅). A frame-level path collapses to a transcript by merging repeats and deleting blanks
(`∅ a a ∅ b` → `ab`). The CTC loss is −log of the summed probability of every path that
collapses to the target, computed by the forward (alpha) recursion over the target with a blank
between and around its labels:

    alphas = ctc_alphas(log_probs, [1, 2])   # (T, 2·len(target) + 1) table, log space
    loss = ctc_loss(log_probs, [1, 2])       # equals torch.nn.functional.ctc_loss(..., reduction="sum")
    greedy_decode(log_probs)                 # most likely symbol per frame, collapsed

`log_probs` is one utterance, shape (T, C), in log space (e.g. `log_softmax` outputs).
"""

from __future__ import annotations

import torch


def collapse(path: list, blank: object = 0) -> list:
    """The transcript a frame-level path stands for: repeats merged, then blanks deleted (ids or characters)."""
    merged = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
    return [s for s in merged if s != blank]


def ctc_alphas(log_probs: torch.Tensor, target: list[int], blank: int = 0) -> torch.Tensor:
    """CTC forward variables: alpha[t, s] = log P(frames 0..t emit the first s+1 symbols of ∅ y1 ∅ y2 … ∅)."""
    extended = [blank]
    for label in target:
        extended += [label, blank]
    minus_inf = log_probs.new_tensor(float("-inf"))
    # frame 0 can only be the leading blank or the first label
    rows = [torch.stack([log_probs[0, s] if i < 2 else minus_inf for i, s in enumerate(extended)])]
    for t in range(1, log_probs.shape[0]):
        previous, row = rows[-1], []
        for s, symbol in enumerate(extended):
            paths = [previous[s]]                      # stay on the same symbol
            if s >= 1:
                paths.append(previous[s - 1])          # move on by one
            if s >= 2 and symbol != blank and symbol != extended[s - 2]:
                paths.append(previous[s - 2])          # skip the blank between two different labels
            row.append(torch.logsumexp(torch.stack(paths), 0) + log_probs[t, symbol])
        rows.append(torch.stack(row))
    return torch.stack(rows)


def ctc_loss(log_probs: torch.Tensor, target: list[int], blank: int = 0) -> torch.Tensor:
    """−log P(target | log_probs): every path ends on the last label or on the blank after it."""
    alpha = ctc_alphas(log_probs, target, blank)
    return -torch.logsumexp(alpha[-1, -2:], 0)


def greedy_decode(log_probs: torch.Tensor, blank: int = 0) -> list[int]:
    """Best-path decoding: the most likely symbol of every frame, collapsed."""
    return collapse(log_probs.argmax(-1).tolist(), blank)

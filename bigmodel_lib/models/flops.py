"""FLOPs per token of a Transformer: 2N per token for the weight matmuls plus the attention term.

Per token, every weight of a matmul (nn.Linear, the output head) is used once in a
multiply-add: 2N FLOPs forward, 4N backward, so 6N to train. Attention adds matmuls with no
weights: q·k over the T positions of the context and the weighted sum of the T values,
each 2·T·d_attn FLOPs per token per layer (counted over the full T x T score matrix, as
PyTorch's FLOP counter and the PaLM paper's 6N + 12·L·T·d_attn do):

    forward  = 2N + 4·L·T·d_attn        training = 3 x forward = 6N + 12·L·T·d_attn

Embedding lookups cost no FLOPs, so N counts only matmul weights (a tied output head once).
The formula itself lives in one place, `bigmodel_lib.sizing.flops_per_token`; this module counts
N from a real model and measures FLOPs with PyTorch's counter, to check that formula.
"""

from __future__ import annotations

import torch
from torch import nn


def matmul_params(model: nn.Module, exclude: tuple[str, ...] = ()) -> int:
    """Weights used in a matmul per token: every nn.Linear weight (shared ones once), except
    modules whose name starts with one of `exclude` (e.g. a pooler that runs once per sequence)."""
    seen: set[int] = set()
    total = 0
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and not name.startswith(exclude) and id(module.weight) not in seen:
            seen.add(id(module.weight))
            total += module.weight.numel()
    return total


def measured_forward_flops(model: nn.Module, *args, **kwargs) -> int:
    """FLOPs PyTorch's FlopCounterMode counts (matmuls and attention) for one forward call."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*args, **kwargs)
    return int(counter.get_total_flops())

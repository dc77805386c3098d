"""A minimal training loop and measurements (accuracy, parameters, FLOPs) for small classifiers.

Chapter 07 builds the full trainer; this is just enough to compare architectures fairly:
same optimiser, same batches, same number of epochs.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from ..sizing import count_parameters  # noqa: F401  (its one home is sizing; the chapters import it from here too)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        pred = model(x[i:i + batch_size].to(device)).argmax(-1).cpu()
        correct += int((pred == y[i:i + batch_size]).sum())
    return correct / len(x)


def fit_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Adam on cross-entropy, shuffled mini-batches. Returns {'loss': per-epoch means, 'seconds'}."""
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    losses = []
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc=type(model).__name__, leave=False)
    start = time.perf_counter()
    for _ in epochs_iter:
        order = torch.randperm(len(x), generator=g)
        total, n = 0.0, 0
        for i in range(0, len(x), batch_size):
            batch = order[i:i + batch_size]
            xb, yb = x[batch].to(device), y[batch].to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
            n += len(batch)
        losses.append(total / n)
    return {"loss": losses, "seconds": time.perf_counter() - start}


def recurrent_flops(kind: str, input_size: int, hidden: int, steps: int) -> int:
    """Matrix-multiply FLOPs of one recurrent layer over `steps` steps (one sequence).

    Each gate is W_i x + W_h h: 2·(input·hidden + hidden·hidden) FLOPs; RNN 1 gate, GRU 3, LSTM 4.
    """
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    return steps * gates * 2 * (input_size * hidden + hidden * hidden)


def forward_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Forward FLOPs for `example` (one batch), counted by `torch.utils.flop_counter`.

    The counter sees matmuls and convolutions; on CPU the fused LSTM kernel is invisible to it,
    so LSTM layers are added with `recurrent_flops` (the tests check that formula against the
    counter on RNN and GRU, which it does see).
    """
    from torch.utils.flop_counter import FlopCounterMode

    extra = []

    def lstm_hook(module, inputs, _output):
        b, t, _ = inputs[0].shape if module.batch_first else inputs[0].transpose(0, 1).shape
        sizes = [module.input_size] + [module.hidden_size] * (module.num_layers - 1)
        extra.append(sum(b * recurrent_flops("lstm", n, module.hidden_size, t) for n in sizes))

    hooks = [m.register_forward_hook(lstm_hook) for m in model.modules() if isinstance(m, nn.LSTM)]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    return counter.get_total_flops() + sum(extra)

"""A minimal training loop and measurements (accuracy, parameters, FLOPs) for small classifiers.

Chapter 07 builds the full trainer; this is just enough to compare architectures fairly:
same optimiser, same batches, same number of epochs.
"""

from __future__ import annotations

import torch
from torch import nn

from ..sizing import count_parameters  # noqa: F401  (its one home is sizing; the chapters import it from here too)
from ..training.classifier import accuracy, fit  # noqa: F401 (accuracy: re-exported)


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
    """Adam on cross-entropy, shuffled mini-batches (the course's one loop, `training.classifier.fit`).
    Returns {'loss': per-epoch means, 'seconds'}."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    history = fit(model, x, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, device=device, seed=seed,
                  progress=progress, desc=type(model).__name__)
    return {"loss": [row["loss"] for row in history], "seconds": history[-1]["seconds"]}


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

"""What a fine-tuning strategy trains (chapter 08).

A strategy is a choice of which parameters keep `requires_grad`: `train_head_only` (the linear probe),
`unfreeze_last_layers` after `freeze_all` (last-N), nothing frozen (full fine-tuning), or LoRA's
adapters (`bigmodel_lib.finetuning.lora`). The one classifier step, `training.classifier.train_step`,
then moves only those parameters.

    freeze_all(model.encoder)
    unfreeze_last_layers(model.encoder.encoder.layer, 2)
    loss, logits = train_step(model, (ids, mask), labels, optimizer, scheduler=scheduler, clip_norm=1.0)
"""

from __future__ import annotations

from torch import nn


def freeze_all(module: nn.Module) -> nn.Module:
    """Stop every parameter of `module` from training: autograd no longer computes its gradient."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze_last_layers(layers: nn.ModuleList, k: int) -> nn.ModuleList:
    """Let the last `k` blocks of `layers` train again (the top of the network adapts, the bottom stays)."""
    if not 1 <= k <= len(layers):
        raise ValueError(f"The number of last blocks to unfreeze (last_n) must be between 1 and {len(layers)}, "
                         f"got {k}.")
    for layer in layers[-k:]:
        for p in layer.parameters():
            p.requires_grad_(True)
    return layers


def train_head_only(model: nn.Module) -> nn.Module:
    """Freeze everything but `model.head`: the linear probe's choice, a classifier on frozen features."""
    freeze_all(model)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model

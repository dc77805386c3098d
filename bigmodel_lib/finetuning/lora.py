"""LoRA (Hu et al., 2021) written from scratch: low-rank adapters on frozen linear layers.

A frozen weight W (out, in) gets a trainable update ΔW = B @ A · (alpha / r), with
A (r, in) initialised like `peft` (Kaiming-uniform, a=√5) and B (out, r) at zero, so the
wrapped model starts out computing exactly what the pretrained one did:

    y = x W^T + b + dropout(x) A^T B^T · scaling

For inference the update can be folded into W (`merge`) and taken out again (`unmerge`).

    model = apply_lora(model, target_modules=["query", "value"], r=8, alpha=16)
    mark_only_lora_trainable(model)            # apply_lora already does this by default
    parameter_counts(model)                    # {'trainable': ..., 'total': ..., ...}
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


class LoRALinear(nn.Module):
    """An `nn.Linear` plus a rank-`r` adapter; the wrapped layer's weights stay frozen."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}.")
        if r <= 0:
            raise ValueError(f"LoRA rank r must be a positive integer, got {r}.")
        self.base = base
        self.r = r
        self.alpha = alpha
        self.scaling = alpha / r
        self.in_features = base.in_features
        self.out_features = base.out_features
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, **factory))  # (r, in)
        self.lora_B = nn.Parameter(torch.empty(base.out_features, r, **factory))  # (out, r)
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False
        self.reset_lora_parameters()
        for p in self.base.parameters():
            p.requires_grad_(False)

    def reset_lora_parameters(self) -> None:
        """A like `nn.Linear`'s default (peft's choice), B at zero: ΔW = 0 at the start."""
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B)

    def delta_weight(self) -> torch.Tensor:
        """The update ΔW = B @ A · scaling, shape (out, in) like the base weight."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., in) -> (..., out)
        y = self.base(x)
        if self.merged:
            return y
        update = self.lora_dropout(x) @ self.lora_A.T  # (..., r)
        return y + (update @ self.lora_B.T) * self.scaling  # (..., out)

    @torch.no_grad()
    def merge(self) -> None:
        """Fold ΔW into the base weight: one matmul per layer at inference, no extra latency."""
        if not self.merged:
            self.base.weight += self.delta_weight().to(self.base.weight.dtype)
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Take ΔW back out of the base weight so the adapter can train again."""
        if self.merged:
            self.base.weight -= self.delta_weight().to(self.base.weight.dtype)
            self.merged = False

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"r={self.r}, alpha={self.alpha}, merged={self.merged}")


def _matches(name: str, targets: Iterable[str]) -> bool:
    """`name` is targeted when its last component (or its dotted suffix) is in `targets`."""
    return any(name == t or name.endswith("." + t) for t in targets)


def apply_lora(model: nn.Module, target_modules: Iterable[str] = ("query", "value"), r: int = 8,
               alpha: float = 16.0, dropout: float = 0.0, freeze_base: bool = True,
               trainable_modules: Iterable[str] = ()) -> nn.Module:
    """Replace every `nn.Linear` whose name ends with one of `target_modules` by a `LoRALinear`.

    Names are matched like peft does: `"query"` targets `encoder.layer.0.attention.self.query`.
    With `freeze_base`, everything but the adapters (and modules named in
    `trainable_modules`, e.g. a fresh classification head) is frozen. Returns `model`.
    """
    targets = list(target_modules)
    if not targets:
        raise ValueError("target_modules is empty: name the linear layers to adapt, e.g. ['query', 'value'].")
    chosen = [name for name, m in model.named_modules()
              if isinstance(m, nn.Linear) and _matches(name, targets)]
    if not chosen:
        linears = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, nn.Linear)})
        raise ValueError(f"No nn.Linear matches target_modules={targets}. Linear layer names here: {linears}.")
    for name in chosen:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(getattr(parent, child), r=r, alpha=alpha, dropout=dropout))
    if freeze_base:
        mark_only_lora_trainable(model, trainable_modules)
    return model


def lora_layers(model: nn.Module) -> list[LoRALinear]:
    return [m for m in model.modules() if isinstance(m, LoRALinear)]


def mark_only_lora_trainable(model: nn.Module, trainable_modules: Iterable[str] = ()) -> nn.Module:
    """Freeze every parameter except LoRA's A and B and those under `trainable_modules`."""
    keep = list(trainable_modules)
    for name, p in model.named_parameters():
        is_lora = name.endswith("lora_A") or name.endswith("lora_B")
        in_kept = any(name == k or name.startswith(k + ".") or f".{k}." in f".{name}" for k in keep)
        p.requires_grad_(is_lora or in_kept)
    return model


def merge_lora(model: nn.Module) -> nn.Module:
    for layer in lora_layers(model):
        layer.merge()
    return model


def unmerge_lora(model: nn.Module) -> nn.Module:
    for layer in lora_layers(model):
        layer.unmerge()
    return model


def lora_state_dict(model: nn.Module, extra_modules: Iterable[str] = ()) -> dict[str, torch.Tensor]:
    """Only the adapter tensors (plus `extra_modules`, e.g. the head): what needs saving."""
    extra = list(extra_modules)
    return {name: t.detach().clone() for name, t in model.state_dict().items()
            if name.endswith("lora_A") or name.endswith("lora_B")
            or any(name.startswith(k + ".") or f".{k}." in f".{name}" for k in extra)}


def parameter_counts(model: nn.Module) -> dict[str, float]:
    """Trainable and total parameter counts (`sizing.count_parameters`) and the trainable %."""
    from ..sizing import count_parameters

    trainable, total = count_parameters(model), count_parameters(model, trainable_only=False)
    return {"trainable": trainable, "total": total, "percent": 100.0 * trainable / max(total, 1)}

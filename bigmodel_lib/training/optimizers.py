"""Muon for a model's hidden matrices, AdamW for the rest, in one optimizer (chapter 07's recipe).

    optimizer = MuonAdamW(muon_param_groups(model, weight_decay=0.1), lr=2e-3)

Muon (Jordan et al., 2024) replaces each matrix's momentum by its nearest semi-orthogonal matrix
(every singular value pushed towards 1 by five Newton–Schulz steps), so a step moves every direction of
the matrix by about the same amount instead of letting a few large ones dominate. Embeddings, the output
layer and 1-D gains have no such structure and keep AdamW. One `torch.optim.Optimizer`, so the trainer's
schedule, clipping and checkpoints work unchanged. Checked against `torch.optim.Muon` and
`torch.optim.AdamW` in tests/test_optimizers.py.
"""

from __future__ import annotations

import math

import torch

NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)  # quintic coefficients: steep at 0, so 5 steps suffice


def orthogonalize(g: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """≈ U Vᵀ of g = U S Vᵀ (singular values land in about [0.7, 1.2]), in bfloat16 like torch.optim.Muon."""
    a, b, c = NEWTON_SCHULZ
    x = g.bfloat16()
    wide = x.T if g.size(0) > g.size(1) else x  # iterate on the side with the smaller Gram matrix
    wide = wide / wide.norm().clamp(min=eps)  # spectral norm ≤ Frobenius norm = 1: inside the basin
    for _ in range(steps):
        gram = wide @ wide.T
        wide = a * wide + (b * gram + c * gram @ gram) @ wide
    return wide.T if g.size(0) > g.size(1) else wide


class MuonAdamW(torch.optim.Optimizer):
    """Groups with `muon=True` take Muon steps (momentum → orthogonalize → step), the others AdamW's.

    Muon's step is scaled by 0.2·√max(rows, cols) ("match_rms_adamw"), so one learning rate serves both.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.95), eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.95):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      muon=False))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    (self._muon_step if group["muon"] else self._adamw_step)(p, group)
        return loss

    def _muon_step(self, p: torch.Tensor, group: dict) -> None:
        buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
        buf.lerp_(p.grad, 1 - group["momentum"])  # running mean of gradients
        update = orthogonalize(p.grad.lerp(buf, group["momentum"]))  # Nesterov: look one step ahead
        p.mul_(1 - group["lr"] * group["weight_decay"])
        p.add_(update.to(p.dtype), alpha=-group["lr"] * 0.2 * math.sqrt(max(p.shape)))

    def _adamw_step(self, p: torch.Tensor, group: dict) -> None:
        state = self.state[p]
        if not state:
            state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        beta1, beta2 = group["betas"]
        state["step"] += 1
        state["exp_avg"].lerp_(p.grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
        m_hat = state["exp_avg"] / (1 - beta1 ** state["step"])
        v_hat = state["exp_avg_sq"] / (1 - beta2 ** state["step"])
        p.mul_(1 - group["lr"] * group["weight_decay"])
        p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])


def muon_param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Muon for the blocks' matrices; AdamW (decayed) for embeddings and the output layer, (not) for 1-D."""
    hidden, table, flat, seen = [], [], [], set()
    for name, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:  # a tied matrix is listed once
            continue
        seen.add(id(p))
        if p.dim() < 2:
            flat.append(p)
        elif name.startswith(("transformer.wte", "transformer.wpe", "lm_head")):
            table.append(p)
        else:
            hidden.append(p)
    return [{"params": hidden, "weight_decay": weight_decay, "muon": True},
            {"params": table, "weight_decay": weight_decay},
            {"params": flat, "weight_decay": 0.0}]

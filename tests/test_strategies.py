"""Fine-tuning strategies: which parameters each freezing function leaves trainable, and a step that moves
only those (bigmodel_lib.finetuning.strategies)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bigmodel_lib.finetuning.strategies import freeze_all, train_head_only, unfreeze_last_layers
from bigmodel_lib.training.classifier import train_step


class TinyClassifier(nn.Module):
    """Embedding, three blocks and a head, called like EncoderClassifier: model(ids, mask)."""

    def __init__(self, vocab: int = 20, width: int = 8, n_layers: int = 3, n_classes: int = 2):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(vocab, width)
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(n_layers))
        self.head = nn.Linear(width, n_classes)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.embed(ids)
        for layer in self.layers:
            h = torch.tanh(layer(h))
        m = mask.unsqueeze(-1).float()
        return self.head((h * m).sum(1) / m.sum(1))


def trainable_names(model: nn.Module) -> set[str]:
    return {name for name, p in model.named_parameters() if p.requires_grad}


def test_freeze_all_leaves_nothing_trainable():
    model = freeze_all(TinyClassifier())
    assert trainable_names(model) == set()


def test_unfreeze_last_layers_opens_exactly_the_top_k_blocks():
    model = TinyClassifier()
    freeze_all(model)
    unfreeze_last_layers(model.layers, 2)
    assert trainable_names(model) == {"layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"}
    for k in (0, 4):
        with pytest.raises(ValueError, match="between 1 and 3"):
            unfreeze_last_layers(model.layers, k)


def test_train_head_only_freezes_everything_but_the_head():
    model = train_head_only(TinyClassifier())
    assert trainable_names(model) == {"head.weight", "head.bias"}


def _batch():
    ids = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0], [6, 7, 8, 9]])
    mask = (ids > 0).long()
    return (ids, mask), torch.tensor([0, 1, 1])


def test_a_step_changes_the_trainable_parameters_and_no_frozen_one():
    model = TinyClassifier()
    freeze_all(model)
    unfreeze_last_layers(model.layers, 1)
    for p in model.head.parameters():
        p.requires_grad_(True)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 ** s)
    loss, _ = train_step(model, *_batch(), opt, scheduler=sched, clip_norm=1.0)
    assert isinstance(loss, float) and loss > 0
    for name, p in model.named_parameters():
        moved = not torch.equal(p, before[name])
        assert moved == p.requires_grad, f"{name}: trainable={p.requires_grad} but moved={moved}"
    assert sched.get_last_lr() == [0.5e-2]  # the schedule stepped once


def test_a_step_clips_the_gradient_norm():
    model = TinyClassifier()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    opt = torch.optim.SGD(model.parameters(), lr=1.0)  # plain SGD: the change is the clipped gradient itself
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    train_step(model, *_batch(), opt, scheduler=sched, clip_norm=1e-3)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm().item() == pytest.approx(1e-3, rel=1e-3)

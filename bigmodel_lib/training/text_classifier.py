"""Train and evaluate `bigmodel_lib.models.text_classifier.TextClassifier` the way Keras's `fit` does:
Adam (Keras's epsilon 1e-7), shuffled mini-batches each epoch, one loss per epoch reported."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def classifier_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sparse cross-entropy for C ≥ 2 logits; binary cross-entropy for a single logit."""
    if logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
    return F.cross_entropy(logits, labels)


def predict(model: nn.Module, ids: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Predicted class ids (N,) for token ids (N, L)."""
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(ids[i : i + batch_size].to(device)).cpu() for i in range(0, len(ids), batch_size)])
    return (logits[:, 0] > 0).long() if logits.shape[-1] == 1 else logits.argmax(-1)


def accuracy(model: nn.Module, ids: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict(model, ids) == labels).float().mean().item()


def fit(
    model: nn.Module,
    ids: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    device: torch.device | str = "cpu",
    seed: int = 0,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: bool = True,
) -> list[dict]:
    """Train in place; returns one row per epoch: loss (mean over batches), accuracy, and
    validation accuracy when `validation=(ids, labels)` is given."""
    from tqdm.auto import tqdm

    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=1e-7)
    generator = torch.Generator().manual_seed(seed)
    history = []
    for epoch in tqdm(range(1, epochs + 1), desc="torch epochs", disable=not progress):
        model.train()
        order = torch.randperm(len(ids), generator=generator)
        total, correct, seen = 0.0, 0, 0
        for start in range(0, len(ids), batch_size):
            batch = order[start : start + batch_size]
            x, y = ids[batch].to(device), labels[batch].to(device)
            logits = model(x)
            loss = classifier_loss(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            guess = (logits[:, 0] > 0).long() if logits.shape[-1] == 1 else logits.argmax(-1)
            correct += (guess == y).sum().item()
            seen += len(batch)
        row = {"epoch": epoch, "loss": total / seen, "accuracy": correct / seen}
        if validation is not None:
            row["val_accuracy"] = accuracy(model, *validation)
        history.append(row)
    return history

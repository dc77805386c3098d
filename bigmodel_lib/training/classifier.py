"""The one training loop for the course's small PyTorch classifiers (chapters 05, 06, 08, 10).

    history = fit(model, x_train, y_train, epochs=10, validation=(x_val, y_val), patience=2)
    labels = predict(model, x_test)
    share = accuracy(model, x_test, y_test)

`fit` works the way Keras's `fit` does: shuffled mini-batches each epoch (order fixed by `seed`),
Adam with Keras's epsilon 1e-7 unless an optimizer is given, one row per epoch. With
`validation` it measures the validation loss and accuracy after each epoch; with `patience` it
stops once the validation loss has not improved for that many epochs and puts back the weights
of the best epoch (early stopping, as `keras.callbacks.EarlyStopping(restore_best_weights=True)`).
The test set never enters here: choosing an epoch is the validation set's job.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F


def classifier_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sparse cross-entropy for C ≥ 2 logits; binary cross-entropy for a single logit."""
    if logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
    return F.cross_entropy(logits, labels)


def labels_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Class ids (N,): the largest logit, or logit > 0 for a single-output (sigmoid) head."""
    return (logits[:, 0] > 0).long() if logits.shape[-1] == 1 else logits.argmax(-1)


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor, batch_size: int = 256, device: torch.device | str | None = None) -> torch.Tensor:
    """The model's outputs (N, C) in eval mode, batch by batch, on the CPU."""
    if device is not None:
        model.to(device)
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 256, device: torch.device | str | None = None) -> torch.Tensor:
    """Predicted class ids (N,) for inputs x (N, ...)."""
    return labels_from_logits(logits_of(model, x, batch_size, device))


def accuracy(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> float:
    """Share of the examples whose predicted class is the label."""
    return (predict(model, x, batch_size) == torch.as_tensor(labels).cpu()).sum().item() / len(x)


def evaluate(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> dict[str, float]:
    """Mean loss and accuracy on (x, labels), in eval mode."""
    logits = logits_of(model, x, batch_size)
    labels = torch.as_tensor(labels).cpu()
    return {"loss": classifier_loss(logits, labels).item(), "accuracy": (labels_from_logits(logits) == labels).sum().item() / len(labels)}


def fit(
    model: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    patience: int | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    progress: bool = True,
    desc: str = "torch epochs",
) -> list[dict]:
    """Train in place; one row per epoch: epoch, loss (mean over batches), accuracy, seconds (since the
    start), and val_loss / val_accuracy when `validation=(x, labels)` is given.

    `optimizer`: built on the model's trainable parameters; default Adam(learning_rate, eps=1e-7).
    `patience`: stop after that many epochs without a lower validation loss and restore the best
    epoch's weights; the rows then end at the epoch where training stopped, and the best row has
    `"best": True`.
    `augment(batch, generator)`: a new random variant of each training batch (data augmentation), drawn
    from the loop's seeded generator so a run is reproducible; validation and test inputs are never augmented.
    `scheduler`: a learning-rate schedule on `optimizer` (which must then be given), stepped after every batch.
    """
    from tqdm.auto import tqdm

    if patience is not None and validation is None:
        raise ValueError("patience (early stopping) needs validation=(x, labels) to watch.")
    if scheduler is not None and optimizer is None:
        raise ValueError("a scheduler needs the optimizer it schedules: pass optimizer= as well.")
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optimizer or torch.optim.Adam(params, lr=learning_rate, eps=1e-7)
    generator = torch.Generator().manual_seed(seed)
    history: list[dict] = []
    best_loss, best_state, best_row = float("inf"), None, None
    started = time.perf_counter()
    for epoch in tqdm(range(1, epochs + 1), desc=desc, disable=not progress):
        row = {"epoch": epoch, **_train_one_epoch(model, x, labels, optimizer, batch_size, generator, device, augment,
                                                        scheduler)}
        row["seconds"] = time.perf_counter() - started
        if validation is not None:
            scores = evaluate(model, *validation)
            row.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
        history.append(row)
        if patience is None:
            continue
        if row["val_loss"] < best_loss:
            best_loss, best_row = row["val_loss"], row
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_row["epoch"] >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
        best_row["best"] = True
    return history


def train_step(
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    clip_norm: float | None = None,
) -> tuple[float, torch.Tensor]:
    """One optimisation step of a classifier on one batch; returns (the batch's loss before the step, logits).

    Forward `model(*inputs)`, loss, backward, optionally clip the gradient's global norm to `clip_norm`
    (one unlucky batch cannot throw the weights far), optimizer step, then the schedule's step.
    Frozen parameters get no gradient, so the optimizer leaves them exactly as they were.
    """
    logits = model(*inputs)                                    # (B, n_classes)
    loss = classifier_loss(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip_norm is not None:
        trainable = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(trainable, clip_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item(), logits.detach()


def _train_one_epoch(model, x, labels, optimizer, batch_size, generator, device, augment=None,
                     scheduler=None) -> dict[str, float]:
    """One pass over (x, labels) in a shuffled order (each batch through `augment` if given): mean loss and
    accuracy of the batches as trained."""
    model.train()
    order = torch.randperm(len(x), generator=generator)
    total, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        yb = labels[batch].to(device)
        xb = x[batch] if augment is None else augment(x[batch], generator)
        loss, logits = train_step(model, (xb.to(device),), yb, optimizer, scheduler=scheduler)
        total += loss * len(batch)
        correct += (labels_from_logits(logits) == yb).sum().item()
    return {"loss": total / len(x), "accuracy": correct / len(x)}

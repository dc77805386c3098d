"""Plots the chapters share: training curves (loss and learning rate)."""

from __future__ import annotations


def plot_curves(history: list[dict], evals: list[dict] | None = None, *, title: str = "", smooth: int = 20, axes=None):
    """Training loss (raw and smoothed) with evaluation points, and the learning rate, side by side.

    `history`: rows with `step`, `loss`, `lr` (as `TrainResult.history`);
    `evals`: rows with `step`, `train`, `val` (as `TrainResult.evals`). Returns the figure.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    else:
        fig = axes[0].figure
    loss_ax, lr_ax = axes
    steps = np.array([r["step"] for r in history])
    losses = np.array([r["loss"] for r in history])
    loss_ax.plot(steps, losses, color="tab:blue", alpha=0.25, lw=0.8, label="train (per step)")
    if len(losses) >= smooth > 1:
        kernel = np.ones(smooth) / smooth
        loss_ax.plot(steps[smooth - 1:], np.convolve(losses, kernel, mode="valid"), color="tab:blue",
                     label=f"train ({smooth}-step mean)")
    if evals:
        loss_ax.plot([e["step"] for e in evals], [e["val"] for e in evals], "o-", color="tab:orange", label="val")
    loss_ax.set(xlabel="step", ylabel="loss", title=title or "loss")
    loss_ax.legend()
    loss_ax.grid(alpha=0.3)
    lr_ax.plot(steps, [r["lr"] for r in history], color="tab:green")
    lr_ax.set(xlabel="step", ylabel="learning rate", title="learning rate")
    lr_ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_trials(trials, *, x: str = "trial", y: str = "val", hue: str | None = None, title: str = "", ax=None):
    """One point per tuning trial (a DataFrame with columns `x`, `y` and optionally `hue`)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    if hue is None:
        ax.scatter(trials[x], trials[y])
    else:
        for value, group in trials.groupby(hue):
            ax.scatter(group[x], group[y], label=f"{hue}={value}")
        ax.legend()
    ax.set(xlabel=x, ylabel=y, title=title)
    ax.grid(alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure

"""Evaluation plots: confusion matrix, ROC and PR curves, reliability diagram (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import metrics as m
from .calibration import reliability_bins


def _axes(ax, figsize=(4.2, 3.6)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str] | None = None, normalize: bool = False,
                          ax=None, title: str | None = None):
    """Counts (or row-normalised rates) with the numbers written in each cell."""
    cm = m.confusion_matrix(y_true, y_pred, labels=np.arange(len(class_names)) if class_names else None)
    shown = cm / cm.sum(axis=1, keepdims=True).clip(min=1) if normalize else cm
    ax = _axes(ax)
    ax.imshow(shown, cmap="Blues")
    names = class_names or [str(i) for i in range(len(cm))]
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    limit = shown.max() / 2
    for i in range(len(cm)):
        for j in range(len(cm)):
            text = f"{shown[i, j]:.2f}" if normalize else str(cm[i, j])
            ax.text(j, i, text, ha="center", va="center", color="white" if shown[i, j] > limit else "black")
    if title:
        ax.set_title(title)
    return ax


def plot_roc_curves(curves: dict[str, tuple], ax=None):
    """`curves`: name → (y_true, scores). One ROC line per model, AUC in the legend."""
    ax = _axes(ax)
    for name, (y, s) in curves.items():
        fpr, tpr, _ = m.roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC {m.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_pr_curves(curves: dict[str, tuple], ax=None):
    """`curves`: name → (y_true, scores). Precision-recall lines, average precision in the legend."""
    ax = _axes(ax)
    base = None
    for name, (y, s) in curves.items():
        prec, rec, _ = m.precision_recall_curve(y, s)
        ax.step(rec, prec, where="post", label=f"{name} (AP {m.average_precision(y, s):.3f})")
        base = float(np.mean(np.asarray(y) == 1))
    if base is not None:
        ax.axhline(base, color="k", ls=":", lw=1, label=f"chance ({base:.2f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall")
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_reliability(probs_by_name: dict[str, tuple], n_bins: int = 10, ax=None):
    """`probs_by_name`: name → (probs (N, K), y_true). Accuracy vs confidence per bin."""
    from .calibration import expected_calibration_error

    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect calibration")
    for name, (probs, y) in probs_by_name.items():
        b = reliability_bins(probs, y, n_bins)
        full = b.count > 0
        ece = expected_calibration_error(probs, y, n_bins)
        ax.plot(b.confidence[full], b.accuracy[full], "o-", ms=4, label=f"{name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability diagram")
    ax.legend(fontsize=8, loc="upper left")
    return ax

"""Classification and language-model metrics written with NumPy, checked against `sklearn.metrics`.

Conventions follow scikit-learn so the numbers can be compared exactly:
- labels are integers; for binary metrics `pos_label` (default 1) is the positive class;
- a ratio whose denominator is 0 (e.g. precision with no positive predictions) is 0.0;
- curves take a score for the positive class and sweep every distinct threshold.
"""

from __future__ import annotations

import math

import numpy as np


def _as_1d(a, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    return arr


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} entries but y_pred has {len(p)}.")
    if len(t) == 0:
        raise ValueError("Cannot compute a metric on zero examples.")
    return t, p


def _safe_div(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def accuracy(y_true, y_pred) -> float:
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """Counts C[i, j] = #examples with true label labels[i] predicted as labels[j]."""
    t, p = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist(), strict=True):
        if a in index and b in index:
            cm[index[a], index[b]] += 1
    return cm


def _binary_counts(y_true, y_pred, pos_label) -> tuple[int, int, int, int]:
    t, p = _pair(y_true, y_pred)
    tp = int(np.sum((t == pos_label) & (p == pos_label)))
    fp = int(np.sum((t != pos_label) & (p == pos_label)))
    fn = int(np.sum((t == pos_label) & (p != pos_label)))
    tn = int(np.sum((t != pos_label) & (p != pos_label)))
    return tp, fp, fn, tn


def precision(y_true, y_pred, pos_label=1) -> float:
    tp, fp, _, _ = _binary_counts(y_true, y_pred, pos_label)
    return _safe_div(tp, tp + fp)


def recall(y_true, y_pred, pos_label=1) -> float:
    tp, _, fn, _ = _binary_counts(y_true, y_pred, pos_label)
    return _safe_div(tp, tp + fn)


def f1(y_true, y_pred, pos_label=1) -> float:
    """Harmonic mean of precision and recall: 2·TP / (2·TP + FP + FN)."""
    tp, fp, fn, _ = _binary_counts(y_true, y_pred, pos_label)
    return _safe_div(2 * tp, 2 * tp + fp + fn)


def per_class_prf(y_true, y_pred, labels=None) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support for each class (one-vs-rest), in `labels` order."""
    t, p = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    rows = [_binary_counts(t, p, c) for c in labels]
    prec = np.array([_safe_div(tp, tp + fp) for tp, fp, _, _ in rows])
    rec = np.array([_safe_div(tp, tp + fn) for tp, _, fn, _ in rows])
    f = np.array([_safe_div(2 * tp, 2 * tp + fp + fn) for tp, fp, fn, _ in rows])
    support = np.array([tp + fn for tp, _, fn, _ in rows])
    return {"labels": labels, "precision": prec, "recall": rec, "f1": f, "support": support}


def macro_f1(y_true, y_pred, labels=None) -> float:
    """Unweighted mean of the per-class F1 scores: every class counts the same."""
    return float(np.mean(per_class_prf(y_true, y_pred, labels)["f1"]))


def macro_precision(y_true, y_pred, labels=None) -> float:
    return float(np.mean(per_class_prf(y_true, y_pred, labels)["precision"]))


def macro_recall(y_true, y_pred, labels=None) -> float:
    return float(np.mean(per_class_prf(y_true, y_pred, labels)["recall"]))


def _binary_clf_curve(y_true, scores, pos_label=1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative false and true positives at each distinct score, highest score first."""
    t, s = _pair(y_true, scores)
    y = (t == pos_label).astype(np.float64)
    order = np.argsort(s, kind="mergesort")[::-1]
    s, y = s[order], y[order]
    distinct = np.where(np.diff(s))[0]  # last index before the score changes
    ends = np.r_[distinct, len(y) - 1]
    tps = np.cumsum(y)[ends]
    fps = 1 + ends - tps
    return fps, tps, s[ends]


def roc_curve(y_true, scores, pos_label=1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) at every distinct score, starting from (0, 0) at threshold +inf.

    Unlike sklearn's default we keep every threshold (sklearn: `drop_intermediate=False`).
    """
    fps, tps, thr = _binary_clf_curve(y_true, scores, pos_label)
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thr = np.r_[np.inf, thr]
    if fps[-1] == 0 or tps[-1] == 0:
        raise ValueError("ROC needs both classes present in y_true.")
    return fps / fps[-1], tps / tps[-1], thr


def auc(x, y) -> float:
    """Area under a curve by the trapezoidal rule (x monotonic)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(abs(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2)))


def roc_auc(y_true, scores, pos_label=1) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative)."""
    fpr, tpr, _ = roc_curve(y_true, scores, pos_label)
    return auc(fpr, tpr)


def precision_recall_curve(y_true, scores, pos_label=1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds) like sklearn: increasing thresholds, recall falling to 0 (precision 1)."""
    fps, tps, thr = _binary_clf_curve(y_true, scores, pos_label)
    if tps[-1] == 0:
        raise ValueError("Precision-recall needs at least one positive example in y_true.")
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thr[::-1]


def average_precision(y_true, scores, pos_label=1) -> float:
    """AP = Σ (R_n − R_{n−1}) · P_n: the step-wise area under the PR curve (no interpolation)."""
    prec, rec, _ = precision_recall_curve(y_true, scores, pos_label)
    return float(-np.sum(np.diff(rec) * prec[:-1]))


def log_loss(y_true, probs, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the true class; `probs` is (N, K) rows summing to 1."""
    t = _as_1d(y_true, "y_true").astype(int)
    p = np.clip(np.asarray(probs, dtype=np.float64), eps, 1.0)
    if p.ndim != 2 or len(p) != len(t):
        raise ValueError(f"probs must be (N, K) with N = {len(t)}, got shape {p.shape}.")
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(t)), t])))


def perplexity(mean_nll: float) -> float:
    """exp(mean NLL per token, in nats): the effective number of equally likely next tokens."""
    return float(math.exp(mean_nll))


def token_perplexity(logits, targets, ignore_index: int = -100) -> float:
    """Perplexity of a language model from logits (N, V) and targets (N,), torch or NumPy."""
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    keep = targets != ignore_index
    logits, targets = logits[keep], targets[keep]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return perplexity(float(-log_probs[np.arange(len(targets)), targets].mean()))


def classification_summary(y_true, y_pred, pos_label=1) -> dict[str, float]:
    """The headline numbers in one dict: accuracy, precision, recall, F1 and macro-F1."""
    return {
        "accuracy": accuracy(y_true, y_pred),
        "precision": precision(y_true, y_pred, pos_label),
        "recall": recall(y_true, y_pred, pos_label),
        "f1": f1(y_true, y_pred, pos_label),
        "macro_f1": macro_f1(y_true, y_pred),
    }

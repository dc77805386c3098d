"""Softmax regression from scratch in NumPy: the canonical version the course checks others against.

Model, for an input row x (D features) and K classes with weights W (D, K) and bias b (K,):

    z = xᵀW + b                              logits, (K,)
    P(y = i | x) = exp(z_i) / Σ_j exp(z_j)    softmax
    L = -log P(y = label | x)                 cross-entropy
    ∂L/∂z = p - onehot(label),  ∂L/∂W = x (p - y)ᵀ,  ∂L/∂b = p - y

Batched over N rows, X is (N, D) and every loss is the mean over the batch. The same model in
PyTorch lives here too (`torch_linear_from`, `train_sgd_torch`, imported lazily); the Keras one
is `bigmodel_lib.keras_models.softmax`. All three walk the data in the same order
(`epoch_order`), so from the same starting weights they trace the same learning curves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------------------------------------
# softmax, log-sum-exp, cross-entropy
# ---------------------------------------------------------------------------------------------


def naive_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z) / Σ exp(z) exactly as written: overflows to inf (and nan) once a logit passes ~709."""
    e = np.exp(logits)
    return e / e.sum(axis=axis, keepdims=True)


def logsumexp(logits: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log Σ exp(z), computed as m + log Σ exp(z - m) with m = max z, so nothing overflows."""
    m = np.max(logits, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(logits - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(logits: np.ndarray, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Stable softmax of `logits / temperature` along `axis` (subtract the max before exp)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}.")
    z = np.asarray(logits, dtype=np.result_type(logits, np.float32)) / temperature
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z) = z - logsumexp(z): finite even where softmax underflows to 0."""
    return logits - logsumexp(logits, axis=axis, keepdims=True)


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Integer labels (N,) → one-hot rows (N, K)."""
    labels = np.asarray(labels)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}.")
    out = np.zeros((labels.shape[0], num_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean of -log P(label | x) over the batch, from logits (N, K) and integer labels (N,)."""
    logp = log_softmax(logits)  # (N, K)
    return float(-logp[np.arange(logits.shape[0]), labels].mean())


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------


@dataclass
class SoftmaxRegression:
    """A linear layer followed by softmax: W (D, K), b (K,)."""

    W: np.ndarray
    b: np.ndarray

    @classmethod
    def init(cls, num_features: int, num_classes: int, seed: int = 0, scale: float = 0.01) -> SoftmaxRegression:
        """Small random weights (normal, std `scale`) and zero bias, in float64."""
        rng = np.random.default_rng(seed)
        return cls(W=rng.normal(0.0, scale, size=(num_features, num_classes)), b=np.zeros(num_classes))

    @property
    def num_classes(self) -> int:
        return self.W.shape[1]

    def copy(self) -> SoftmaxRegression:
        return SoftmaxRegression(self.W.copy(), self.b.copy())

    def logits(self, X: np.ndarray) -> np.ndarray:
        return X @ self.W + self.b  # (N, D) @ (D, K) + (K,) → (N, K)

    def predict_proba(self, X: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        return softmax(self.logits(X), temperature=temperature)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.logits(X).argmax(axis=1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(X) == y).mean())

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        return cross_entropy(self.logits(X), y)

    def loss_and_gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Mean cross-entropy and its gradients (dW (D, K), db (K,)), from ∂L/∂z = (p - y) / N."""
        z = self.logits(X)  # (N, K)
        p = softmax(z)  # (N, K)
        delta = (p - one_hot(y, self.num_classes)) / X.shape[0]  # (N, K)
        return cross_entropy(z, y), X.T @ delta, delta.sum(axis=0)

    def sgd_step(self, X: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One plain SGD step on the batch (X, y); returns the batch loss before the step."""
        loss, dW, db = self.loss_and_gradients(X, y)
        self.W -= lr * dW
        self.b -= lr * db
        return loss


# ---------------------------------------------------------------------------------------------
# gradient check
# ---------------------------------------------------------------------------------------------


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences (f(x+ε) - f(x-ε)) / 2ε of the scalar f() with respect to every entry of x.

    `x` is perturbed in place and restored; `f` must read it (e.g. a closure over the model).
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-300) -> float:
    """‖a - b‖ / (‖a‖ + ‖b‖) over all entries: 0 when equal, 1 when unrelated, ~1e-9 for a right gradient.

    Taking norms over the whole array (not entry by entry) keeps tiny gradient entries, whose
    finite differences are mostly rounding noise, from dominating the figure.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def gradient_check(model: SoftmaxRegression, X: np.ndarray, y: np.ndarray, eps: float = 1e-5) -> dict[str, float]:
    """Relative error (`relative_error`) between the analytic and the finite-difference gradients, for W and b."""
    _, dW, db = model.loss_and_gradients(X, y)
    num_W = numerical_gradient(lambda: model.loss(X, y), model.W, eps)
    num_b = numerical_gradient(lambda: model.loss(X, y), model.b, eps)
    return {"W": relative_error(dW, num_W), "b": relative_error(db, num_b)}


# ---------------------------------------------------------------------------------------------
# mini-batch SGD
# ---------------------------------------------------------------------------------------------


def epoch_order(n: int, epoch: int, seed: int = 0) -> np.ndarray:
    """The order in which epoch `epoch` visits the n training rows (same for every framework)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def batches_of(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive chunks of `order`; the last one may be shorter (as in Keras' `fit`)."""
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@dataclass
class History:
    """Per-epoch curves, measured after each epoch on the whole train and validation sets."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)

    def add(self, train_loss: float, val_loss: float, train_acc: float, val_acc: float) -> None:
        self.train_loss.append(float(train_loss))
        self.val_loss.append(float(val_loss))
        self.train_acc.append(float(train_acc))
        self.val_acc.append(float(val_acc))

    def as_frame(self):
        import pandas as pd

        frame = pd.DataFrame(self.__dict__)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
        return frame


def train_sgd(
    model: SoftmaxRegression,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    lr: float = 0.5,
    seed: int = 0,
    progress: bool = True,
) -> History:
    """Mini-batch SGD on (X, y), updating `model` in place; returns per-epoch curves."""
    from tqdm.auto import trange

    history = History()
    for epoch in trange(epochs, desc="NumPy SGD", unit="epoch", disable=not progress):
        for index in batches_of(epoch_order(len(X), epoch, seed), batch_size):
            model.sgd_step(X[index], y[index], lr)
        history.add(model.loss(X, y), model.loss(X_val, y_val), model.accuracy(X, y), model.accuracy(X_val, y_val))
    return history


# ---------------------------------------------------------------------------------------------
# the same model in PyTorch
# ---------------------------------------------------------------------------------------------


def torch_linear_from(model: SoftmaxRegression, device=None, dtype=None):
    """A `torch.nn.Linear(D, K)` holding the same weights (torch stores W transposed: (K, D))."""
    import torch

    dtype = dtype or torch.float64
    D, K = model.W.shape
    linear = torch.nn.Linear(D, K, dtype=dtype, device=device)
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(model.W.T, dtype=dtype))
        linear.bias.copy_(torch.as_tensor(model.b, dtype=dtype))
    return linear


def torch_loss_and_gradients(linear, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy and autograd's gradients, returned in NumPy's layout (dW (D, K), db (K,))."""
    import torch
    import torch.nn.functional as F

    device, dtype = linear.weight.device, linear.weight.dtype
    linear.zero_grad()
    loss = F.cross_entropy(linear(torch.as_tensor(X, dtype=dtype, device=device)), torch.as_tensor(y, device=device))
    loss.backward()
    return loss.item(), linear.weight.grad.T.cpu().numpy(), linear.bias.grad.cpu().numpy()


def _torch_eval(linear, X, y) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        logits = linear(X)
        return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).double().mean().item()


def train_sgd_torch(
    linear,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    lr: float = 0.5,
    seed: int = 0,
    progress: bool = True,
) -> History:
    """The same mini-batch SGD with `torch.optim.SGD` and autograd, visiting the data in `epoch_order`."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import trange

    device, dtype = linear.weight.device, linear.weight.dtype
    Xt, yt = torch.as_tensor(X, dtype=dtype, device=device), torch.as_tensor(y, device=device)
    Xv, yv = torch.as_tensor(X_val, dtype=dtype, device=device), torch.as_tensor(y_val, device=device)
    optimizer = torch.optim.SGD(linear.parameters(), lr=lr)
    history = History()
    for epoch in trange(epochs, desc="PyTorch SGD", unit="epoch", disable=not progress):
        for index in batches_of(epoch_order(len(X), epoch, seed), batch_size):
            index = torch.as_tensor(index, device=device)
            optimizer.zero_grad()
            F.cross_entropy(linear(Xt[index]), yt[index]).backward()
            optimizer.step()
        (train_loss, train_acc), (val_loss, val_acc) = _torch_eval(linear, Xt, yt), _torch_eval(linear, Xv, yv)
        history.add(train_loss, val_loss, train_acc, val_acc)
    return history

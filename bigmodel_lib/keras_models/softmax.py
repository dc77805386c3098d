"""Softmax regression in TensorFlow/Keras: one `Dense` layer trained on logits with cross-entropy.

Mirrors `bigmodel_lib.models.softmax` (the NumPy reference): same weight layout (kernel (D, K),
bias (K,)), same loss (mean sparse categorical cross-entropy from logits), and `train_sgd_keras`
feeds `model.fit` the rows in the same order as the NumPy and PyTorch loops.
"""

from __future__ import annotations

import os

import numpy as np

from ..models.softmax import History, SoftmaxRegression, epoch_order

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def keras_softmax_regression(model: SoftmaxRegression, lr: float = 0.5, dtype: str = "float64"):
    """A compiled `keras.Sequential([Dense(K)])` with `model`'s weights and plain SGD at `lr`."""
    import keras

    D, K = model.W.shape
    net = keras.Sequential([keras.Input((D,), dtype=dtype), keras.layers.Dense(K, dtype=dtype)], name="softmax_regression")
    net.set_weights([model.W.astype(dtype), model.b.astype(dtype)])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=_loss(dtype), metrics=["accuracy"])
    return net


def _loss(dtype: str):
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype)


def keras_loss_and_gradients(net, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy and `tf.GradientTape`'s gradients (dW (D, K), db (K,)) as NumPy arrays."""
    import tensorflow as tf

    dtype = net.layers[-1].kernel.dtype
    with tf.GradientTape() as tape:
        loss = _loss(dtype)(tf.constant(y), net(tf.constant(X, dtype=dtype), training=True))
    dW, db = tape.gradient(loss, net.layers[-1].trainable_variables)
    return float(loss.numpy()), dW.numpy(), db.numpy()


def _evaluate(net, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    import tensorflow as tf

    logits = net(tf.constant(X, dtype=net.layers[-1].kernel.dtype), training=False)
    loss = _loss(logits.dtype.name)(tf.constant(y), logits)
    return float(loss.numpy()), float(np.mean(np.argmax(logits.numpy(), axis=1) == y))


def train_sgd_keras(
    net,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    progress: bool = True,
) -> History:
    """Mini-batch SGD with `model.fit`, one epoch at a time on the rows in `epoch_order` (no shuffling)."""
    from tqdm.auto import trange

    history = History()
    for epoch in trange(epochs, desc="Keras SGD", unit="epoch", disable=not progress):
        order = epoch_order(len(X), epoch, seed)
        net.fit(X[order], y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        (train_loss, train_acc), (val_loss, val_acc) = _evaluate(net, X, y), _evaluate(net, X_val, y_val)
        history.add(train_loss, val_loss, train_acc, val_acc)
    return history

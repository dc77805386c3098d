"""Train and score a small Keras classifier the way `bigmodel_lib.models.fitting` does in PyTorch."""

from __future__ import annotations

import time

import numpy as np


def fit_keras_classifier(model, x, y, epochs: int = 10, batch_size: int = 64, lr: float = 3e-3, seed: int = 0) -> dict:
    """Adam on sparse cross-entropy from logits. Returns {'loss': per-epoch means, 'seconds'}."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    history = model.fit(np.asarray(x), np.asarray(y), epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    return {"loss": history.history["loss"], "seconds": time.perf_counter() - start}


def keras_accuracy(model, x, y, batch_size: int = 512) -> float:
    x, y = np.asarray(x), np.asarray(y)
    # call the model directly: predict() would trace a new tf.function for every model
    logits = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)])
    return float((logits.argmax(-1) == y).mean())

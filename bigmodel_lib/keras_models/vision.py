"""Keras twins of `bigmodel_lib.models.vision` (same layers, same parameter counts).

Keras images are channels-last: (B, S, S, 1) where PyTorch uses (B, 1, S, S).
"""

from __future__ import annotations


def keras_mlp(in_features: int, hidden: tuple[int, ...] = (128,), n_classes: int = 10, input_shape=None):
    import keras

    layers = [keras.Input(shape=input_shape or (in_features,)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(h, activation="relu") for h in hidden]
    layers.append(keras.layers.Dense(n_classes))  # logits
    return keras.Sequential(layers, name="mlp")


def keras_small_cnn(image_size: int = 8, channels: tuple[int, int] = (16, 32), n_classes: int = 10):
    import keras

    c1, c2 = channels
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 1)),
            keras.layers.Conv2D(c1, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(c2, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(n_classes),
        ],
        name="small_cnn",
    )

"""The spoken-digit CNN of `bigmodel_lib.models.audio_cnn` in Keras, and a weight copy from PyTorch.

Keras works channels-last: input (B, n_mels, frames, 1); conv kernels are (kh, kw, in, out)
where torch stores (out, in, kh, kw); dense kernels are (in, out) where torch stores (out, in).
"""

from __future__ import annotations

from ..models.audio_cnn import BN_EPS, AudioCNNConfig


def build_audio_cnn(n_mels: int, frames: int, config: AudioCNNConfig | None = None):
    """A Keras `Sequential` with the same layers, shapes and parameter count as `AudioCNN`."""
    config = config or AudioCNNConfig()
    import keras
    from keras import layers

    stack = [keras.Input((n_mels, frames, 1))]
    for c_out in config.channels:
        stack += [
            layers.Conv2D(c_out, 3, padding="same"),
            layers.BatchNormalization(epsilon=BN_EPS, momentum=0.9),  # torch momentum 0.1 ≡ Keras 0.9
            layers.ReLU(),
            layers.MaxPooling2D(2),
        ]
    if n_mels != config.n_mels:
        raise ValueError(f"n_mels={n_mels} differs from config.n_mels={config.n_mels}.")
    bands, steps = n_mels // 2 ** len(config.channels), frames // 2 ** len(config.channels)
    stack += [
        layers.AveragePooling2D(pool_size=(1, steps)),  # (B, bands, 1, C): average over time
        layers.Reshape((bands, config.channels[-1])),
        layers.Permute((2, 1)),  # (B, C, bands): flatten in torch's channel-major order
        layers.Flatten(),
        layers.Dropout(config.dropout),
        layers.Dense(config.n_classes),
    ]
    return keras.Sequential(stack, name="audio_cnn")


def copy_torch_weights(keras_model, torch_model) -> None:
    """Load an `AudioCNN`'s weights (conv, BatchNorm statistics, head) into `build_audio_cnn`'s model."""
    import torch

    convs = [m for m in torch_model.modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in torch_model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    k_convs = [layer for layer in keras_model.layers if layer.__class__.__name__ == "Conv2D"]
    k_norms = [layer for layer in keras_model.layers if layer.__class__.__name__ == "BatchNormalization"]
    if len(convs) != len(k_convs) or len(norms) != len(k_norms):
        raise ValueError("the two models have different numbers of conv/BatchNorm layers; build both from one config.")

    def np_(t):
        return t.detach().cpu().numpy()

    for conv, k_conv in zip(convs, k_convs, strict=True):
        k_conv.set_weights([np_(conv.weight).transpose(2, 3, 1, 0), np_(conv.bias)])  # (kh, kw, in, out)
    for bn, k_bn in zip(norms, k_norms, strict=True):
        k_bn.set_weights([np_(bn.weight), np_(bn.bias), np_(bn.running_mean), np_(bn.running_var)])
    dense = keras_model.layers[-1]
    dense.set_weights([np_(torch_model.head.weight).T, np_(torch_model.head.bias)])  # (in, out)

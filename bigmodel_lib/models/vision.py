"""Image classifiers for the 8×8 digits (and MNIST where it is available): an MLP and a small CNN.

The MLP sees 64 unrelated numbers; the CNN knows that neighbouring pixels belong together
(local 3×3 filters shared across the image, pooling for small shifts). Keras twins with the
same parameter counts are in `bigmodel_lib.keras_models.vision`.
"""

from __future__ import annotations

import torch
from torch import nn


class MLPClassifier(nn.Module):
    """Flatten -> Linear -> ReLU -> ... -> Linear to class logits."""

    def __init__(self, in_features: int, hidden: tuple[int, ...] = (128,), n_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, ...) -> (B, n_classes)
        return self.net(x)


class SmallCNN(nn.Module):
    """Two 3×3 conv + ReLU + 2×2 max-pool stages, then a linear classifier.

    Input (B, 1, S, S) with S divisible by 4 (8 for the digits, 28 for MNIST).
    """

    def __init__(self, image_size: int = 8, channels: tuple[int, int] = (16, 32), n_classes: int = 10) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two 2x2 poolings), got {image_size}")
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c1, S/2, S/2)
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c2, S/4, S/4)
        )
        self.classifier = nn.Linear(c2 * (image_size // 4) ** 2, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, S, S) -> (B, n_classes)
        return self.classifier(self.features(x).flatten(1))


def digits_tensors(test_fraction: float = 0.25, seed: int = 0):
    """The sklearn digits scaled to [0, 1] as (B, 1, 8, 8) tensors, split stratified.

    Returns (x_train, y_train, x_test, y_test).
    """
    from sklearn.model_selection import train_test_split

    from ..data import load_digits

    x, y = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=test_fraction, random_state=seed, stratify=y)
    as_images = lambda a: torch.tensor(a, dtype=torch.float32).view(-1, 1, 8, 8)  # noqa: E731
    return as_images(x_tr), torch.tensor(y_tr), as_images(x_te), torch.tensor(y_te)

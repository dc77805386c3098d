"""A small CNN that classifies log-mel spectrograms (spoken digits), in PyTorch.

    model = AudioCNN(AudioCNNConfig(n_classes=10))
    logits = model(x)              # x: (B, n_mels, frames) or (B, 1, n_mels, frames)

Three conv blocks (3×3 conv → BatchNorm → ReLU → 2×2 max-pool), an average over *time* only
(where in frequency a pattern sits matters for speech: it is the difference between vowels),
flatten channels × frequency bands, dropout, one linear layer. `bigmodel_lib.keras_models.audio_cnn` builds the
same network in Keras and can copy these weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..training.classifier import fit, predict  # noqa: F401 (predict: re-exported)
from ..training.schedules import WarmupCosine

BN_EPS = 1e-5  # torch's default; the Keras twin uses the same


@dataclass(frozen=True)
class AudioCNNConfig:
    n_classes: int = 10
    channels: tuple[int, ...] = (16, 32, 64)
    dropout: float = 0.2
    n_mels: int = 40  # input height (mel bands, or image rows); must survive the 2×2 pools

    @property
    def bands_out(self) -> int:
        """Frequency bands left after the pools."""
        return self.n_mels // 2 ** len(self.channels)

    def __post_init__(self) -> None:
        if self.bands_out < 1:
            raise ValueError(f"n_mels={self.n_mels} is too small for {len(self.channels)} 2×2 pools; "
                             f"use at least {2 ** len(self.channels)}.")


class AudioCNN(nn.Module):
    def __init__(self, config: AudioCNNConfig = AudioCNNConfig()) -> None:
        super().__init__()
        self.config = config
        blocks, c_in = [], 1
        for c_out in config.channels:
            blocks += [
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out, eps=BN_EPS),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(c_in * config.bands_out, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)  # (B, 1, n_mels, frames)
        h = self.features(x)  # (B, C, n_mels/8, frames/8)
        h = h.mean(dim=3).flatten(1)  # (B, C · n_mels/8): average over time, keep frequency
        return self.head(self.dropout(h))  # (B, n_classes)


def train_classifier(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, epochs: int = 10,
                     batch_size: int = 64, lr: float = 3e-3, device: torch.device | str = "cpu",
                     seed: int = 0, progress: bool = True, augment=None, cosine: bool = False,
                     weight_decay: float = 1e-4) -> list[float]:
    """AdamW with the course's one loop (`training.classifier.fit`); the mean training loss of each epoch.
    `augment(batch, generator)` makes a random variant of each batch (see `fit`). `cosine`: instead of a
    constant `lr`, warm up over the first epoch and decay along a cosine to nearly 0 by the last step (the
    last epochs then fine-tune at a small step rather than bounce around)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = None
    if cosine:
        per_epoch = -(-len(x_train) // batch_size)
        schedule = WarmupCosine(warmup_steps=per_epoch, total_steps=epochs * per_epoch, min_ratio=0.01)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history = fit(model, x_train, y_train, epochs=epochs, batch_size=batch_size, optimizer=optimizer, device=device,
                  seed=seed, progress=progress, desc="epochs", augment=augment, scheduler=scheduler)
    return [row["loss"] for row in history]

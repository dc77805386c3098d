"""scikit-learn's 8x8 digits, scaled to [0, 1] and split train / validation / test once, stratified."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DigitsSplit:
    X_train: np.ndarray  # (N_train, 64), pixels / 16 in [0, 1]
    y_train: np.ndarray  # (N_train,), 0..9
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def digits_split(seed: int = 0, test_fraction: float = 0.2, val_fraction: float = 0.2) -> DigitsSplit:
    """A fixed stratified split of the 1,797 digits; pixels divided by 16 so they lie in [0, 1].

    `val_fraction` is a fraction of what remains after the test set is held out.
    """
    from sklearn.model_selection import train_test_split

    from .datasets import load_digits

    X, y = load_digits()
    X = X.astype(np.float64) / 16.0
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_fraction, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction, stratify=y_rest, random_state=seed
    )
    return DigitsSplit(X_train, y_train, X_val, y_val, X_test, y_test)

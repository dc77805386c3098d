"""Draw small labelled training sets: the same number of examples from every class."""

from __future__ import annotations

import numpy as np


def balanced_sample(labels: np.ndarray, pool: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """`n` row indices from `pool`, split as evenly as possible across the classes in `labels[pool]`.

    With n ≥ len(pool) the whole pool is returned. Each class gets n // K rows, and the first
    n % K classes (in a seeded random order) one more, so even n = 16 sees every class.
    """
    labels, pool = np.asarray(labels), np.asarray(pool)
    if n >= len(pool):
        return np.sort(pool)
    rng = np.random.default_rng(seed)
    classes = rng.permutation(np.unique(labels[pool]))
    if n < len(classes):
        raise ValueError(f"n={n} is smaller than the number of classes ({len(classes)}): every class needs a row.")
    chosen = []
    for rank, cls in enumerate(classes):
        members = pool[labels[pool] == cls]
        want = n // len(classes) + (rank < n % len(classes))
        if want > len(members):
            raise ValueError(f"class {cls!r} has only {len(members)} rows in the pool, {want} asked for.")
        chosen.append(rng.choice(members, size=want, replace=False))
    return np.sort(np.concatenate(chosen))

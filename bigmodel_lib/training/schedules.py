"""Learning-rate schedules: linear warm-up, then cosine decay to a floor (the GPT trainer), or
linear decay to zero (fine-tuning a classifier).

It is the same curve as `transformers.get_cosine_with_min_lr_schedule_with_warmup` (a unit
test checks). The schedule is a small callable object (not a lambda) so `LambdaLR.state_dict()` can store it
and a resumed run continues on exactly the same curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class WarmupCosine:
    """Multiplier of the peak learning rate at optimizer step `step` (0-based).

    step < warmup_steps:           linear ramp step / warmup_steps (from 0)
    warmup_steps <= step < total:  cosine from 1 down to min_ratio
    step >= total_steps:           min_ratio
    """

    warmup_steps: int
    total_steps: int
    min_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.total_steps <= 0:
            raise ValueError(f"total_steps must be positive, got {self.total_steps}.")
        if not 0 <= self.warmup_steps <= self.total_steps:
            raise ValueError(f"warmup_steps must be in [0, total_steps={self.total_steps}], got {self.warmup_steps}.")
        if not 0.0 <= self.min_ratio <= 1.0:
            raise ValueError(f"min_ratio must be in [0, 1], got {self.min_ratio}.")

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return step / self.warmup_steps
        if step >= self.total_steps:
            return self.min_ratio
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        progress = (step - self.warmup_steps) / decay_steps  # 0 → 1
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class LinearWarmupDecay:
    """Multiplier of the peak learning rate at optimizer step `step` (0-based), over `total_steps`:
    the smaller of a linear ramp, (step + 1) / warmup_steps (so the first step already learns), and a
    linear decay, (total_steps - step) / (total_steps - warmup_steps), that reaches 0 at total_steps.
    A callable object rather than a lambda, so `LambdaLR.state_dict()` can store it."""

    warmup_steps: int
    total_steps: int

    def __post_init__(self) -> None:
        if self.total_steps <= 0:
            raise ValueError(f"total_steps must be positive, got {self.total_steps}.")
        if self.warmup_steps < 1:
            raise ValueError(f"warmup_steps must be at least 1, got {self.warmup_steps}.")

    def __call__(self, step: int) -> float:
        rise = (step + 1) / self.warmup_steps
        fall = max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps))
        return min(rise, fall)


def warmup_cosine_lr(step: int, *, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """The learning rate itself (nanoGPT's `get_lr`): `max_lr * WarmupCosine(...)(step)`."""
    ratio = min_lr / max_lr if max_lr else 0.0
    return max_lr * WarmupCosine(warmup_steps, total_steps, ratio)(step)


def lr_curve(schedule: WarmupCosine, max_lr: float, steps: int | None = None) -> list[float]:
    """The learning rate at every step, for plotting."""
    return [max_lr * schedule(s) for s in range(steps or schedule.total_steps)]

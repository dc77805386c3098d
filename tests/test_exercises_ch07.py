"""Chapter 07's exercise checks accept the reference answers and reject typical mistakes."""

import math

import pytest
import torch

from bigmodel_lib.exercises import ExerciseFailed, ch07


def good_lr(step, max_lr, warmup, total, min_lr):
    if step < warmup:
        return max_lr * step / warmup
    if step >= total:
        return min_lr
    progress = (step - warmup) / (total - warmup)
    return min_lr + (max_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def test_lr_schedule_check():
    assert "passed" in ch07.check_lr_schedule(good_lr)
    with pytest.raises(ExerciseFailed, match="warm-up"):
        ch07.check_lr_schedule(lambda s, m, w, t, mn: good_lr(s, m, w, t, mn) if s >= w else m * (s + 1) / w)
    with pytest.raises(ExerciseFailed):
        ch07.check_lr_schedule(lambda s, m, w, t, mn: good_lr(s, m, w, t, 0.0))


def test_mfu_check():
    assert "passed" in ch07.check_mfu(lambda tps, n, layers, c, t, peak: tps * (6 * n + 12 * layers * c * t) / peak)
    with pytest.raises(ExerciseFailed, match="attention"):
        ch07.check_mfu(lambda tps, n, layers, c, t, peak: tps * 6 * n / peak)


def test_zero_memory_check():
    def good(n, gpus, stage):
        return (2 / (gpus if stage >= 3 else 1) + 2 / (gpus if stage >= 2 else 1) + 12 / (gpus if stage >= 1 else 1)) * n

    assert "passed" in ch07.check_zero_memory(good)
    with pytest.raises(ExerciseFailed, match="stage"):
        ch07.check_zero_memory(lambda n, gpus, stage: 16 * n / gpus)


def _clip(grads, max_norm):
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    factor = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    return [g * factor for g in grads], norm


def test_clip_global_norm_check():
    assert "passed" in ch07.check_clip_global_norm(_clip)
    with pytest.raises(ExerciseFailed):  # each tensor clipped on its own
        ch07.check_clip_global_norm(lambda grads, c: ([g * min(1.0, c / float(torch.linalg.vector_norm(g))) for g in grads],
                                                      torch.linalg.vector_norm(grads[0])))
    with pytest.raises(ExerciseFailed):  # always scaled to the bound, even below it
        ch07.check_clip_global_norm(lambda grads, c: ([g * c / _clip(grads, c)[1] for g in grads], _clip(grads, c)[1]))

"""The pieces fine-tuning shares with the other training loops: schedule, batches, memory."""

import numpy as np
import pytest
import torch

from bigmodel_lib.training.batches import length_batches, pad_batch, pad_right, training_batches
from bigmodel_lib.training.memory import SavedActivations, adamw_state_mib
from bigmodel_lib.training.schedules import LinearWarmupDecay


@pytest.mark.parametrize("warm,total", [(1, 1), (1, 10), (3, 10), (10, 10), (5, 4)])
def test_linear_warmup_decay_is_the_fine_tuning_curve(warm, total):
    schedule = LinearWarmupDecay(warm, total)
    for step in range(total + 3):
        ramp, decay = (step + 1) / warm, max(0.0, (total - step) / max(1, total - warm))
        assert schedule(step) == min(ramp, decay)
    assert schedule(total) == 0.0, "the rate reaches zero at total_steps"


def test_linear_warmup_decay_one_line_errors():
    with pytest.raises(ValueError, match="warmup_steps must be at least 1"):
        LinearWarmupDecay(0, 10)
    with pytest.raises(ValueError, match="total_steps must be positive"):
        LinearWarmupDecay(1, 0)


def test_linear_warmup_decay_survives_a_scheduler_state_dict():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, LinearWarmupDecay(2, 6))
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == LinearWarmupDecay(2, 6)(3)
    assert "lr_lambdas" in scheduler.state_dict()


def test_pad_batch_ids_and_mask():
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=9)
    assert ids.tolist() == [[5, 6, 7], [8, 9, 9]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert ids.dtype == mask.dtype == torch.long
    assert pad_right([[1], [2, 3]], -100).tolist() == [[1, -100], [2, 3]]


def test_length_batches_cover_every_index_once():
    lengths = [5, 1, 3, 3, 9, 2, 7]
    for shuffle in (False, True):
        batches = length_batches(lengths, 3, shuffle, seed=1)
        assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert [list(b) for b in length_batches(lengths, 3, False)] == [[1, 5, 2], [3, 0, 6], [4]]


def test_training_batches_walk_shuffled_passes():
    batches = training_batches(5, 2, steps=5, seed=0)
    flat = np.concatenate(batches).tolist()
    assert len(batches) == 5 and sorted(flat[:5]) == list(range(5)) and sorted(flat[5:10]) == list(range(5))


def test_saved_activations_and_state_size():
    acts = SavedActivations()
    x = torch.randn(8, 16, requires_grad=True)
    with acts.hooks():
        (x * x).sum()  # multiplication saves both operands: the same storage, counted once
    acts.end_step()
    assert acts.peak_bytes == 8 * 16 * 4
    assert adamw_state_mib(total=2**20, trainable=0) == 4.0 and adamw_state_mib(2**20, 2**20) == 16.0

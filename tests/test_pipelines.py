"""LM batch pipelines: PyTorch and tf.data give the same token ids; the random sampler."""

import numpy as np
import pytest
import torch

from bigmodel_lib.data.pipelines import (
    LMWindowDataset,
    pack_documents,
    random_batches,
    tf_lm_dataset,
    tf_lm_windows,
    torch_lm_loader,
    window_order,
    window_starts,
)

IDS = np.random.default_rng(0).integers(0, 500, size=1000)


def as_numpy_batches(batches):
    return [(np.asarray(x), np.asarray(y)) for x, y in batches]


def test_pack_documents_and_window_starts():
    assert pack_documents([[1, 2], [3]], eos_id=0) == [1, 2, 0, 3, 0]
    assert window_starts(10, 4).tolist() == [0, 4]  # each window needs 5 tokens
    assert window_starts(10, 4, stride=2).tolist() == [0, 2, 4]
    with pytest.raises(ValueError, match="cannot fill"):
        window_starts(4, 4)


def test_dataset_windows_are_shifted_by_one():
    data = LMWindowDataset(IDS, block_size=16, stride=8)
    x, y = data[3]
    assert x.dtype == torch.long and x.shape == (16,)
    assert x.tolist() == IDS[24:40].tolist() and y.tolist() == IDS[25:41].tolist()


@pytest.mark.parametrize("shuffle,stride,drop_last", [(True, None, False), (True, 5, True), (False, 7, False)])
def test_torch_and_tf_yield_identical_batches(shuffle, stride, drop_last):
    kwargs = dict(block_size=16, batch_size=8, stride=stride, shuffle=shuffle, seed=42, epoch=1, drop_last=drop_last)
    torch_batches = as_numpy_batches(torch_lm_loader(IDS, **kwargs))
    tf_batches = as_numpy_batches(tf_lm_dataset(IDS, **kwargs))
    assert len(torch_batches) == len(tf_batches) > 3
    for (tx, ty), (fx, fy) in zip(torch_batches, tf_batches, strict=True):
        np.testing.assert_array_equal(tx, fx)
        np.testing.assert_array_equal(ty, fy)
        np.testing.assert_array_equal(tx[:, 1:], ty[:, :-1])


def test_order_depends_on_seed_and_epoch_and_idiomatic_tf_windows_match():
    assert window_order(50, seed=0).tolist() != window_order(50, seed=1).tolist()
    assert window_order(50, seed=0, epoch=0).tolist() != window_order(50, seed=0, epoch=1).tolist()
    assert sorted(window_order(50, seed=0).tolist()) == list(range(50))
    plain = as_numpy_batches(tf_lm_windows(IDS, 16, 8, stride=5))
    indexed = as_numpy_batches(tf_lm_dataset(IDS, 16, 8, stride=5, shuffle=False))
    assert len(plain) == len(indexed)
    for (a, b), (c, d) in zip(plain, indexed, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_random_batches_reproducible_and_shifted():
    ids = torch.as_tensor(IDS)
    x, y = random_batches(ids, 32, 4, generator=torch.Generator().manual_seed(0))
    x2, _ = random_batches(ids, 32, 4, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 32) and torch.equal(x, x2)
    assert torch.equal(x[:, 1:], y[:, :-1])
    for row_x, row_y in zip(x, y, strict=True):  # every row is a real slice of the stream
        start = next(s for s in range(len(IDS) - 32) if IDS[s : s + 32].tolist() == row_x.tolist())
        assert row_y.tolist() == IDS[start + 1 : start + 33].tolist()
    with pytest.raises(ValueError, match="too few"):
        random_batches(ids[:10], 32, 4)

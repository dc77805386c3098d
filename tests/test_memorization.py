"""The verbatim-continuation test on generators whose answers we know, over real Shakespeare tokens."""

import numpy as np
import pytest
import torch

from bigmodel_lib.evaluation import memorization as mem


@pytest.fixture(scope="module")
def ids():
    from bigmodel_lib.data import load_tiny_shakespeare

    try:
        text = load_tiny_shakespeare()[:20_000]
    except Exception as exc:
        pytest.skip(f"Tiny Shakespeare not available: {exc}")
    return torch.tensor([ord(c) for c in text])


def test_perfect_memoriser_and_copycat(ids):
    starts = mem.window_starts(len(ids), 24, 50)
    where = {tuple(ids[s:s + 12].tolist()): s for s in starts}

    def oracle(prefixes, n):  # knows the text: returns the true continuation
        return torch.stack([ids[where[tuple(p.tolist())] + 12:where[tuple(p.tolist())] + 12 + n] for p in prefixes])

    def repeat_last(prefixes, n):  # a "model" that repeats its last token
        return prefixes[:, -1:].repeat(1, n)

    perfect = mem.verbatim_rate(oracle, ids, starts, prefix_len=12, suffix_len=12, batch_size=16)
    assert perfect.exact == 1.0 and perfect.mean_matched == 12 and perfect.n == 50
    dumb = mem.verbatim_rate(repeat_last, ids, starts, prefix_len=12, suffix_len=12)
    assert dumb.exact == 0.0 and dumb.token_accuracy < 0.2


def test_matched_prefix_lengths_stops_at_first_difference():
    got = torch.tensor([[1, 2, 3, 4], [1, 9, 3, 4], [7, 2, 3, 4]])
    want = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])
    assert mem.matched_prefix_lengths(got, want).tolist() == [4, 1, 0]


def test_window_starts():
    s = mem.window_starts(1000, 64, 20, seed=1)
    assert len(set(s.tolist())) == 20 and s.max() <= 1000 - 64 and np.all(np.diff(s) > 0)
    with pytest.raises(ValueError, match="shorter than one window"):
        mem.window_starts(10, 64, 5)

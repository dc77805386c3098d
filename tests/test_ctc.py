"""Chapter 10's CTC written out (`bigmodel_lib.models.ctc`): against PyTorch and against brute force."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from bigmodel_lib.models.ctc import collapse, ctc_alphas, ctc_loss, greedy_decode
from bigmodel_lib.numerics import check_matches

T, C = 6, 4


@pytest.fixture
def logits():
    return torch.randn(T, C, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def torch_ctc(log_probs, target):
    return F.ctc_loss(log_probs[:, None], torch.tensor([target], dtype=torch.long).reshape(1, -1),
                      torch.tensor([len(log_probs)]), torch.tensor([len(target)]), reduction="sum")


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([0, 1, 1, 0, 2, 2]) == [1, 2]
    assert collapse([1, 0, 1]) == [1, 1]   # a blank between two equal labels keeps both
    assert collapse([1, 1]) == [1]
    assert collapse([0, 0]) == []


@pytest.mark.reference
@pytest.mark.parametrize("target", [[1, 2], [1, 1], [], [3, 1, 3]])
def test_ctc_loss_matches_torch(logits, target):
    log_probs = logits.log_softmax(-1)
    ours, ref = ctc_loss(log_probs, target), torch_ctc(log_probs, target)
    # log space: each frame adds a 3-term logsumexp and one log-probability, over T frames
    check_matches("ctc loss", ours, ref, terms=4 * T, dtype="float64")


@pytest.mark.reference
def test_ctc_gradient_matches_torch(logits):
    ours_in, ref_in = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ctc_loss(ours_in.log_softmax(-1), [1, 2]).backward()
    torch_ctc(ref_in.log_softmax(-1), [1, 2]).backward()
    # gradients are probabilities minus posteriors (≤ 1), each from sums over T frames of alphas and betas
    check_matches("ctc gradient", ours_in.grad, ref_in.grad, terms=8 * T, magnitude=1.0, dtype="float64")


def test_alpha_recursion_sums_every_path_that_collapses_to_the_target(logits):
    log_probs = logits.log_softmax(-1)
    target = [1, 2]
    total = sum(math.exp(sum(log_probs[t, s].item() for t, s in enumerate(path)))
                for path in itertools.product(range(C), repeat=T) if collapse(list(path)) == target)
    check_matches("ctc vs brute force", ctc_loss(log_probs, target).item(), -math.log(total),
                  terms=C**T, dtype="float64")
    assert ctc_alphas(log_probs, target).shape == (T, 2 * len(target) + 1)


def test_impossible_target_has_infinite_loss(logits):
    # four equal labels need at least 7 frames (blanks between repeats): 6 cannot emit them
    assert ctc_loss(logits.log_softmax(-1), [1, 1, 1, 1]) == math.inf


def test_greedy_decode_collapses_the_best_path():
    log_probs = torch.full((5, 3), -5.0)
    for t, s in enumerate([1, 1, 0, 1, 2]):
        log_probs[t, s] = 0.0
    assert greedy_decode(log_probs) == [1, 1, 2]


def test_exercise_check_accepts_the_answer_and_rejects_labels_only():
    from bigmodel_lib.exercises import ExerciseFailed, ch10

    ch10.check_min_ctc_frames(lambda y: len(y) + sum(a == b for a, b in zip(y, y[1:], strict=False)))
    with pytest.raises(ExerciseFailed):
        ch10.check_min_ctc_frames(len)  # forgets the blank between repeated labels

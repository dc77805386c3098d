"""Softmax regression: NumPy reference vs PyTorch and TensorFlow/Keras, gradient check, exercises."""

import numpy as np
import pytest

from bigmodel_lib.data.digits import digits_split
from bigmodel_lib.exercises import ExerciseFailed
from bigmodel_lib.exercises import ch03 as ex
from bigmodel_lib.models.softmax import (
    SoftmaxRegression,
    batches_of,
    cross_entropy,
    epoch_order,
    gradient_check,
    log_softmax,
    logsumexp,
    naive_softmax,
    one_hot,
    relative_error,
    softmax,
    torch_linear_from,
    torch_loss_and_gradients,
    train_sgd,
    train_sgd_torch,
)
from bigmodel_lib.numerics import check_matches


@pytest.fixture(scope="module")
def digits():
    return digits_split(seed=0)


@pytest.fixture(scope="module")
def start():
    return SoftmaxRegression.init(64, 10, seed=1, scale=0.1)


def test_digits_split_is_stratified_and_disjoint(digits):
    assert digits.sizes() == {"train": 1149, "val": 288, "test": 360}
    assert 0.0 <= digits.X_train.min() and digits.X_train.max() <= 1.0
    for y in (digits.y_train, digits.y_val, digits.y_test):
        assert set(np.unique(y)) == set(range(10))
    rows = {tuple(r) for r in digits.X_test}
    assert sum(tuple(r) in rows for r in digits.X_train) < 20  # sklearn digits has a few repeated images only


@pytest.mark.reference
def test_softmax_matches_torch_and_tensorflow():
    import tensorflow as tf
    import torch

    z = np.random.default_rng(0).normal(size=(6, 10)) * 50 + np.array([[0.0], [800.0], [-800.0], [0.0], [5.0], [1e4]])
    ours = softmax(z)
    # float64: a max, 10 exponentials and their sum, a division (≈ 13 roundings) on probabilities ≤ 1;
    # the log-domain results are rounded relative to the logits' size (up to ~1e4).
    f64 = {"terms": 13, "dtype": "float64"}
    check_matches("softmax vs torch", ours, torch.softmax(torch.as_tensor(z), dim=-1), **f64, magnitude=1.0)
    check_matches("softmax vs tensorflow", ours, tf.nn.softmax(tf.constant(z)), **f64, magnitude=1.0)
    check_matches("log_softmax vs torch", log_softmax(z), torch.log_softmax(torch.as_tensor(z), dim=-1), **f64,
                  magnitude=float(np.abs(z).max()))
    from scipy.special import logsumexp as scipy_lse

    check_matches("logsumexp vs scipy", logsumexp(z), scipy_lse(z, axis=-1), **f64)


def test_naive_softmax_overflows_where_stable_does_not():
    z = np.array([[1000.0, 1001.0, 1002.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(naive_softmax(z)).all()
    check_matches("stable vs shifted naive softmax", softmax(z), naive_softmax(z - 1000.0), terms=5, dtype="float64")


def test_temperature_limits():
    z = np.array([2.0, 1.0, 0.5])
    np.testing.assert_allclose(softmax(z, temperature=1e4), np.full(3, 1 / 3), atol=1e-3)
    np.testing.assert_allclose(softmax(z, temperature=1e-3), [1.0, 0.0, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match="temperature"):
        softmax(z, temperature=0.0)


@pytest.mark.reference
def test_cross_entropy_and_one_hot():
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(2)
    z, y = rng.normal(size=(7, 4)) * 30, rng.integers(0, 4, size=7)
    # float64: log-sum-exp of 4 logits (~6 roundings), then a mean over 7 examples, relative to |z| ≤ ~100.
    check_matches("cross-entropy vs torch", cross_entropy(z, y), F.cross_entropy(torch.as_tensor(z), torch.as_tensor(y)),
                  terms=6 + 7, magnitude=float(np.abs(z).max()), dtype="float64")
    assert one_hot(np.array([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="labels"):
        one_hot(np.array([3]), 3)


@pytest.mark.reference
def test_gradients_match_torch_and_keras(digits, start):
    from bigmodel_lib.keras_models.softmax import keras_loss_and_gradients, keras_softmax_regression

    X, y = digits.X_train[:256], digits.y_train[:256]
    loss, dW, db = start.loss_and_gradients(X, y)
    # float64: logits (64 terms), softmax (10), then a mean over 256 examples. Every summed term is at most 1
    # (pixels in [0, 1] times p − y in [−1, 1]), so magnitude 1 bounds the gradients; the loss is ~log(10).
    bound = {"terms": 64 + 10 + 256, "dtype": "float64"}
    for name, other in (("torch", torch_loss_and_gradients(torch_linear_from(start), X, y)),
                        ("keras", keras_loss_and_gradients(keras_softmax_regression(start), X, y))):
        check_matches(f"loss, {name}", other[0], loss, **bound, magnitude=np.log(10))
        check_matches(f"dW, {name}", other[1], dW, **bound, magnitude=1.0)
        check_matches(f"db, {name}", other[2], db, **bound, magnitude=1.0)


def test_finite_difference_gradient_check(digits, start):
    errors = gradient_check(start.copy(), digits.X_train[:20], digits.y_train[:20])
    assert errors["W"] < 1e-6 and errors["b"] < 1e-6
    broken = start.copy()
    assert relative_error(broken.loss_and_gradients(digits.X_train[:20], digits.y_train[:20])[1] * 1.01,
                          broken.loss_and_gradients(digits.X_train[:20], digits.y_train[:20])[1]) > 1e-3


def test_batches_cover_every_row_once():
    order = epoch_order(103, epoch=3, seed=0)
    chunks = batches_of(order, 32)
    assert [len(c) for c in chunks] == [32, 32, 32, 7]
    assert sorted(np.concatenate(chunks).tolist()) == list(range(103))
    assert not np.array_equal(order, epoch_order(103, epoch=4, seed=0))


@pytest.mark.reference
def test_three_frameworks_trace_the_same_curves(digits, start):
    import torch

    from bigmodel_lib.keras_models.softmax import keras_softmax_regression, train_sgd_keras

    torch.set_num_threads(1)
    X, y, Xv, yv = digits.X_train[:300], digits.y_train[:300], digits.X_val, digits.y_val
    ours = train_sgd(start.copy(), X, y, Xv, yv, epochs=3, batch_size=32, lr=0.5, progress=False)
    theirs = [train_sgd_torch(torch_linear_from(start), X, y, Xv, yv, epochs=3, batch_size=32, lr=0.5, progress=False),
              train_sgd_keras(keras_softmax_regression(start, lr=0.5), X, y, Xv, yv, epochs=3, batch_size=32, progress=False)]
    # float64 round-off of every step's forward and backward pass (≈ 64 + 10 + 32 terms), 30 steps (3 epochs of
    # 10 batches) in a row, relative to the losses (≤ log 10). SGD on this convex loss does not amplify them.
    bound = {"terms": 30 * (64 + 10 + 32) + len(Xv), "magnitude": np.log(10), "dtype": "float64"}
    for name, h in zip(("torch", "keras"), theirs, strict=True):
        check_matches(f"training losses, {name}", h.train_loss, ours.train_loss, **bound)
        check_matches(f"validation losses, {name}", h.val_loss, ours.val_loss, **bound)
        assert h.val_acc == ours.val_acc
    assert ours.train_loss[-1] < start.loss(X, y)


def test_sgd_learns_digits(digits):
    model = SoftmaxRegression.init(64, 10, seed=0)
    train_sgd(model, digits.X_train, digits.y_train, digits.X_val, digits.y_val, epochs=15, progress=False)
    assert model.accuracy(digits.X_test, digits.y_test) > 0.92


def _solution_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_exercise_checks_accept_solutions_and_reject_mistakes():
    assert "passed" in ex.check_stable_softmax(_solution_softmax)
    with pytest.raises(ExerciseFailed):
        ex.check_stable_softmax(naive_softmax)
    with pytest.raises(ExerciseFailed):
        ex.check_stable_softmax(lambda z: _solution_softmax(z.T).T if z.ndim == 2 else _solution_softmax(z))

    def gradient(x, label, W, b):
        delta = _solution_softmax(x @ W + b)
        delta[label] -= 1.0
        return np.outer(x, delta), delta

    assert "passed" in ex.check_one_example_gradient(gradient)
    with pytest.raises(ExerciseFailed):
        ex.check_one_example_gradient(lambda x, label, W, b: (np.outer(x, _solution_softmax(x @ W + b)), _solution_softmax(x @ W + b)))

    def stable_ce(z, labels):
        return float(-(log_softmax(z)[np.arange(len(labels)), labels]).mean())

    assert "passed" in ex.check_stable_cross_entropy(stable_ce)
    with pytest.raises(ExerciseFailed):
        ex.check_stable_cross_entropy(lambda z, labels: float(-np.log(naive_softmax(z)[np.arange(len(labels)), labels]).mean()))

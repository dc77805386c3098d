"""Calibration: reliability bins, ECE, temperature scaling; and the statistics (bootstrap, McNemar)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from bigmodel_lib.data import load_digits
from bigmodel_lib.evaluation import calibration as cal
from bigmodel_lib.evaluation import metrics as m
from bigmodel_lib.evaluation import stats
from bigmodel_lib.numerics import check_matches


@pytest.fixture(scope="module")
def overconfident_digits():
    """A barely regularised logistic regression on raw pixels: accurate and over-confident."""
    X, y = load_digits()
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    X_va, X_te, y_va, y_te = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest)
    clf = LogisticRegression(C=100.0, max_iter=3000).fit(X_tr, y_tr)
    return {"val": (clf.decision_function(X_va), y_va), "test": (clf.decision_function(X_te), y_te)}


@pytest.mark.reference
def test_reliability_bins_match_sklearn_calibration_curve(overconfident_digits):
    logits, y = overconfident_digits["test"]
    probs = cal.softmax(logits)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(int)
    bins = cal.reliability_bins(probs, y, n_bins=10)
    assert bins.count.sum() == len(y)
    full = bins.count > 0
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=10, strategy="uniform")
    # sklearn uses left-closed bins; values exactly on an edge are rare in float confidences
    # float64 means over each bin's examples (≤ len(y) terms) of values in [0, 1].
    f64 = {"terms": len(y), "magnitude": 1.0, "dtype": "float64"}
    check_matches("bin accuracies vs sklearn", bins.accuracy[full], prob_true, **f64)
    check_matches("bin confidences vs sklearn", bins.confidence[full], prob_pred, **f64)
    # ECE by hand from the same bins
    ece = np.sum(bins.count[full] * np.abs(prob_true - prob_pred)) / len(y)
    check_matches("ECE vs by hand", cal.expected_calibration_error(probs, y), ece, **f64)


def test_ece_of_a_perfectly_calibrated_toy_is_zero():
    probs = np.array([[0.25, 0.75]] * 4)
    y = np.array([1, 1, 1, 0])  # 75% confident, 75% right
    check_matches("ECE of a calibrated toy", cal.expected_calibration_error(probs, y), 0.0, terms=8, magnitude=1.0,
                  dtype="float64")


def test_temperature_scaling_fits_on_validation_and_helps_on_test(overconfident_digits):
    logits_va, y_va = overconfident_digits["val"]
    logits_te, y_te = overconfident_digits["test"]
    t = cal.fit_temperature(logits_va, y_va)
    assert t > 1.0  # the over-confident model is cooled down
    # the golden-section answer is the NLL minimum: nearby temperatures are no better
    grid = np.exp(np.linspace(np.log(t) - 0.05, np.log(t) + 0.05, 11))
    assert cal.nll(logits_va, y_va, t) <= min(cal.nll(logits_va, y_va, g) for g in grid) + 1e-9
    # agrees with a generic optimiser
    from scipy.optimize import minimize_scalar

    best = minimize_scalar(lambda lt: cal.nll(logits_va, y_va, np.exp(lt)), bounds=(-3, 3), method="bounded",
                           options={"xatol": 1e-8})
    assert t == pytest.approx(np.exp(best.x), rel=1e-3)
    before = cal.expected_calibration_error(cal.softmax(logits_te), y_te)
    after = cal.expected_calibration_error(cal.softmax(logits_te, t), y_te)
    assert after < before
    assert cal.nll(logits_te, y_te, t) < cal.nll(logits_te, y_te)
    # accuracy unchanged: temperature never changes the argmax
    assert m.accuracy(y_te, cal.softmax(logits_te, t).argmax(1)) == m.accuracy(y_te, logits_te.argmax(1))


def test_binary_logits_round_trip():
    p = np.array([0.1, 0.5, 0.93])
    check_matches("binary logits round trip", cal.softmax(cal.binary_logits(p))[:, 1], p, terms=8, magnitude=1.0,
                  dtype="float64")  # a log-odds, an exp, a sum and a division


@pytest.mark.reference
def test_mcnemar_matches_scipy(overconfident_digits):
    logits, y = overconfident_digits["test"]
    pred_a = logits.argmax(1)
    rng = np.random.default_rng(0)
    pred_b = np.where(rng.random(len(y)) < 0.08, (pred_a + 1) % 10, pred_a)  # B flips ~8% of A's answers
    pred_b[:20] = y[:20]
    res = stats.mcnemar(y, pred_a, pred_b, exact=True)
    assert res.b > 0 and res.c >= 0 and res.b != res.c
    assert res.pvalue == pytest.approx(sps.binomtest(res.b, res.b + res.c, 0.5).pvalue, rel=1e-12)
    chi = stats.mcnemar(y, pred_a, pred_b, exact=False)
    expected_stat = (abs(res.b - res.c) - 1) ** 2 / (res.b + res.c)
    assert chi.statistic == pytest.approx(expected_stat, rel=1e-12)
    assert chi.pvalue == pytest.approx(sps.chi2.sf(expected_stat, df=1), rel=1e-9)
    for b, c in [(0, 0), (3, 3), (1, 9), (25, 40)]:
        assert stats.mcnemar_from_counts(b, c).pvalue == pytest.approx(
            1.0 if b + c == 0 else sps.binomtest(b, b + c, 0.5).pvalue, rel=1e-12)


def test_bootstrap_ci_is_seeded_and_covers_the_estimate(overconfident_digits):
    logits, y = overconfident_digits["test"]
    pred = logits.argmax(1)
    ci = stats.bootstrap_ci(m.accuracy, y, pred, n_boot=500, seed=0)
    again = stats.bootstrap_ci(m.accuracy, y, pred, n_boot=500, seed=0)
    assert (ci.low, ci.high) == (again.low, again.high)
    assert ci.low < ci.estimate < ci.high
    # close to the normal-approximation interval for a proportion
    se = np.sqrt(ci.estimate * (1 - ci.estimate) / len(y))
    assert ci.high - ci.low == pytest.approx(2 * 1.96 * se, rel=0.25)
    # and to scipy's percentile bootstrap
    sp = sps.bootstrap((y, pred), lambda a, b: np.mean(a == b), paired=True, n_resamples=2000,
                       method="percentile", random_state=0, vectorized=False)
    assert ci.low == pytest.approx(sp.confidence_interval.low, abs=0.01)
    assert ci.high == pytest.approx(sp.confidence_interval.high, abs=0.01)

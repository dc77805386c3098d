"""Our metrics against `sklearn.metrics` on real model outputs (logistic regression on real data)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from bigmodel_lib.data import load_digits, load_sms_spam
from bigmodel_lib.evaluation import metrics as m
from bigmodel_lib.numerics import check_matches


@pytest.fixture(scope="module")
def digits_outputs():
    """A multiclass model (10 digits) and a binary one (is it a 9?), on a held-out split."""
    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    multi = LogisticRegression(max_iter=200, C=0.05).fit(X_tr, y_tr)
    binary = LogisticRegression(max_iter=500, C=0.1).fit(X_tr, (y_tr == 9).astype(int))
    return {
        "y": y_te, "pred": multi.predict(X_te), "proba": multi.predict_proba(X_te),
        "yb": (y_te == 9).astype(int), "predb": binary.predict(X_te),
        "scoreb": binary.predict_proba(X_te)[:, 1],
    }


@pytest.fixture(scope="module")
def sms_outputs():
    df = load_sms_spam().drop_duplicates("text")
    y = (df.label == "spam").to_numpy().astype(int)
    X_tr, X_te, y_tr, y_te = train_test_split(df.text.to_numpy(), y, test_size=0.25, random_state=0, stratify=y)
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
    clf = LogisticRegression(max_iter=1000, C=2.0).fit(vec.fit_transform(X_tr), y_tr)
    score = clf.decision_function(vec.transform(X_te))
    return {"y": y_te, "pred": (score > 0).astype(int), "score": score}


def test_binary_metrics_match_sklearn(digits_outputs, sms_outputs):
    for y, p in [(digits_outputs["yb"], digits_outputs["predb"]), (sms_outputs["y"], sms_outputs["pred"])]:
        assert m.accuracy(y, p) == skm.accuracy_score(y, p)
        assert m.precision(y, p) == pytest.approx(skm.precision_score(y, p), abs=1e-12)
        assert m.recall(y, p) == pytest.approx(skm.recall_score(y, p), abs=1e-12)
        assert m.f1(y, p) == pytest.approx(skm.f1_score(y, p), abs=1e-12)
        assert m.f1(y, p, pos_label=0) == pytest.approx(skm.f1_score(y, p, pos_label=0), abs=1e-12)
        np.testing.assert_array_equal(m.confusion_matrix(y, p), skm.confusion_matrix(y, p))
        assert 0.5 < m.f1(y, p) < 1.0  # a real, imperfect model: the comparison is not vacuous


@pytest.mark.reference
def test_multiclass_metrics_match_sklearn(digits_outputs):
    y, p = digits_outputs["y"], digits_outputs["pred"]
    assert m.accuracy(y, p) == skm.accuracy_score(y, p)
    np.testing.assert_array_equal(m.confusion_matrix(y, p), skm.confusion_matrix(y, p))
    # float64: per class a ratio of counts (F1 two more roundings), then a mean over 10 classes.
    f64 = {"terms": 4 + 10, "magnitude": 1.0, "dtype": "float64"}
    check_matches("macro F1", m.macro_f1(y, p), skm.f1_score(y, p, average="macro"), **f64)
    check_matches("macro precision", m.macro_precision(y, p), skm.precision_score(y, p, average="macro"), **f64)
    check_matches("macro recall", m.macro_recall(y, p), skm.recall_score(y, p, average="macro"), **f64)
    prf = m.per_class_prf(y, p)
    sk = skm.precision_recall_fscore_support(y, p)
    for name, ours, theirs in zip(["precision", "recall", "f1", "support"],
                                  [prf["precision"], prf["recall"], prf["f1"], prf["support"]], sk, strict=True):
        check_matches(f"per-class {name}", ours, theirs, terms=4, dtype="float64")
    # float64: one log per example, a mean over all of them, relative to the largest |log p|.
    proba = digits_outputs["proba"]
    check_matches("log loss", m.log_loss(y, proba), skm.log_loss(y, proba), terms=2 + len(y), dtype="float64",
                  magnitude=-np.log(np.clip(proba[np.arange(len(y)), y], 1e-15, 1)).max())


@pytest.mark.reference
def test_curves_match_sklearn(digits_outputs, sms_outputs):
    for y, s in [(digits_outputs["yb"], digits_outputs["scoreb"]), (sms_outputs["y"], sms_outputs["score"])]:
        fpr, tpr, thr = m.roc_curve(y, s)
        sfpr, stpr, sthr = skm.roc_curve(y, s, drop_intermediate=False)
        # float64: each point is a ratio of counts (one rounding); the areas sum one product per point.
        ratio = {"terms": 2, "magnitude": 1.0, "dtype": "float64"}
        area = {"terms": 2 * len(y), "magnitude": 1.0, "dtype": "float64"}
        check_matches("false-positive rates", fpr, sfpr, **ratio)
        check_matches("true-positive rates", tpr, stpr, **ratio)
        np.testing.assert_array_equal(thr[1:], sthr[1:])
        check_matches("ROC AUC", m.roc_auc(y, s), skm.roc_auc_score(y, s), **area)
        prec, rec, pthr = m.precision_recall_curve(y, s)
        sprec, srec, spthr = skm.precision_recall_curve(y, s)
        check_matches("precisions", prec, sprec, **ratio)
        check_matches("recalls", rec, srec, **ratio)
        np.testing.assert_array_equal(pthr, spthr)
        check_matches("average precision", m.average_precision(y, s), skm.average_precision_score(y, s), **area)
        assert m.auc(rec, prec) == pytest.approx(skm.auc(srec, sprec), abs=1e-12)
        assert 0.9 < m.roc_auc(y, s) < 1.0


def test_ties_in_scores_match_sklearn(sms_outputs):
    y, s = sms_outputs["y"], np.round(sms_outputs["score"], 0)  # coarse scores: many ties
    assert len(np.unique(s)) < len(s) / 10
    assert m.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert m.average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


def test_perplexity():
    import torch

    torch.manual_seed(0)
    logits, targets = torch.randn(50, 17) * 3, torch.randint(0, 17, (50,))
    targets[:5] = -100
    expected = torch.exp(torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100)).item()
    assert m.token_perplexity(logits.numpy(), targets.numpy()) == pytest.approx(expected, rel=1e-6)
    assert m.perplexity(np.log(17.0)) == pytest.approx(17.0, rel=1e-12)  # uniform over 17 tokens


def test_clear_errors():
    with pytest.raises(ValueError, match="same|entries"):
        m.accuracy([0, 1], [1])
    with pytest.raises(ValueError, match="both classes"):
        m.roc_curve([1, 1, 1], [0.2, 0.3, 0.4])

"""Keras few-label transfer across review domains (real sentiment sentences, tiny budgets)."""

import numpy as np
import pytest

from bigmodel_lib.finetuning import classify as C
from bigmodel_lib.finetuning import keras_transfer as K


@pytest.fixture(scope="module")
def splits():
    return C.sentiment_splits(0)


def test_sample_labels_balanced(splits):
    few = K.sample_labels(splits.train[splits.train.domain == "yelp"], 9, seed=3)
    assert len(few) == 9 and sorted(few.label.value_counts().tolist()) == [4, 5]
    assert set(few.domain) == {"yelp"}
    assert few.index.equals(K.sample_labels(splits.train[splits.train.domain == "yelp"], 9, seed=3).index)
    tiny = splits.train[splits.train.domain == "yelp"].head(16)  # 7 negative, 9 positive
    with pytest.raises(ValueError, match="has only 7 rows.*at most 14"):
        K.sample_labels(tiny, 16, seed=0)


@pytest.mark.reference
def test_copy_weights_and_log_probs(splits):
    from bigmodel_lib.keras_models.text_classifier import build_keras_text_classifier, make_text_vectorizer

    texts = splits.train.text.head(200)
    model = K.train_keras_classifier(texts, splits.train.label.head(200), epochs=1, seed=0)
    lp = K.keras_log_probs(model, splits.test.text.head(20))
    assert lp.shape == (20, 2) and np.allclose(np.exp(lp).sum(1), 1, atol=1e-4)
    vec = model.get_layer("vectorize")
    other = build_keras_text_classifier(vec, 2)
    assert not np.allclose(K.keras_log_probs(other, splits.test.text.head(20)), lp)
    K.copy_weights(model, other)
    # Exact: the copied weights run through the same Keras graph and kernels.
    np.testing.assert_array_equal(K.keras_log_probs(other, splits.test.text.head(20)), lp)
    assert make_text_vectorizer(texts).vocabulary_size() > 100


def test_few_label_transfer_table(splits):
    table, base = K.few_label_transfer(splits.train, splits.test, "yelp", sizes=(8,), seeds=(0,),
                                       source_epochs=1, epochs=2, progress=False)
    assert set(table.method) == {"transfer", "scratch"}
    assert table.n_labels.tolist() == [0, 8, 8]
    assert table.accuracy.between(0, 1).all()
    with pytest.raises(ValueError, match="target domain"):
        K.few_label_transfer(splits.train, splits.test, "twitter", sizes=(8,))


def test_texts_without_words_do_not_make_nan(splits):
    texts = list(splits.train.text.head(60)) + [":-) :-)", ":) "]
    labels = list(splits.train.label.head(60)) + [1, 0]
    model = K.train_keras_classifier(texts, labels, epochs=2, seed=0)
    assert np.isfinite(K.keras_log_probs(model, [":)", "great food"])).all()

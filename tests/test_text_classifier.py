"""The PyTorch text classifier and its vectoriser against Keras, on the real review sentences."""

import numpy as np
import pytest
import torch

from bigmodel_lib.course.listings import edit_listing, epoch_summaries, run_listing
from bigmodel_lib.data import load_sentiment_sentences
from bigmodel_lib.exercises import ExerciseFailed
from bigmodel_lib.keras_models.text_classifier import PRINTED_LISTING, build_keras_text_classifier, make_text_vectorizer
from bigmodel_lib.models.text_classifier import TextClassifier, TextVectorizer, count_parameters, load_keras_weights
from bigmodel_lib.numerics import check_matches
from bigmodel_lib.training.text_classifier import fit, predict

# Characters where a naive Python mirror (str.lower / str.split / str.isspace) would differ from TensorFlow.
EDGE_CASES = ["ÉCOLE Québec", "is\x85was", "a\xa0b", "tab\tand\nnewline", "!!!", "", "don't -- stop.", "ÀB  cD"]


@pytest.fixture(scope="module")
def sentences():
    return load_sentiment_sentences()


def test_vectorizer_ids_match_keras_text_vectorization(sentences):
    adapt_on = sentences[sentences.domain == "yelp"].text.tolist()  # so imdb/amazon bring real OOV words
    for max_tokens, length in [(None, 64), (500, 20)]:
        keras_layer = make_text_vectorizer(adapt_on, max_tokens=max_tokens, sequence_length=length)
        ours = TextVectorizer(max_tokens=max_tokens, sequence_length=length).adapt(adapt_on)
        assert ours.get_vocabulary() == keras_layer.get_vocabulary()
        texts = sentences.text.tolist() + EDGE_CASES
        expected = np.asarray(keras_layer(np.asarray(texts, dtype=object)))
        np.testing.assert_array_equal(ours(texts).numpy(), expected)
        assert (expected == 1).any(), "the check should include out-of-vocabulary words"


def test_vocabulary_ties_and_edge_characters_like_keras():
    texts = EDGE_CASES + ["b a c", "c b a", "z y"]
    keras_layer = make_text_vectorizer(texts, max_tokens=6, sequence_length=None)
    ours = TextVectorizer(max_tokens=6).adapt(texts)
    assert ours.get_vocabulary() == keras_layer.get_vocabulary()
    np.testing.assert_array_equal(ours(texts).numpy(), np.asarray(keras_layer(np.asarray(texts, dtype=object))))


@pytest.mark.reference
@pytest.mark.parametrize("num_classes,head,hidden", [(2, "softmax", 128), (10, "softmax", 128), (2, "sigmoid", 128), (2, "softmax", None)])
def test_parameter_counts_and_outputs_match(sentences, num_classes, head, hidden):
    texts = sentences.text.tolist()[:400]
    keras_model = build_keras_text_classifier(texts, num_classes, head=head, embedding_dim=16, hidden_units=hidden, compile=False)
    vocab = keras_model.get_layer("vectorize").vocabulary_size()
    torch_model = TextClassifier(vocab, num_classes if head == "softmax" else 1, embedding_dim=16, hidden_units=hidden)
    assert count_parameters(torch_model) == keras_model.count_params()

    load_keras_weights(torch_model, keras_model)
    ids = TextVectorizer(sequence_length=64).adapt(texts)(texts)
    logits = torch_model(ids)
    ours = torch.softmax(logits, -1) if head == "softmax" else torch.sigmoid(logits)
    theirs = keras_model.predict(np.asarray(texts, dtype=object), verbose=0)
    # Masked mean of ≤ 64 embeddings (16-d), a 16→128 and a 128→K layer, then softmax: probabilities ≤ 1.
    check_matches("torch vs keras probabilities", ours, theirs, terms=64 + 16 + 128 + num_classes, magnitude=1.0)


def test_printed_listing_errors_in_order():
    first = run_listing(PRINTED_LISTING)
    assert (first.error_type, first.line) == ("ValueError", 6)
    assert "None" in first.message
    fixed = edit_listing(PRINTED_LISTING, {"Input(shape=(None,))": "Input(shape=(16,))"})
    second = run_listing(fixed)
    assert (second.error_type, second.line) == ("NameError", 11)
    assert "x_train" in second.message
    rng = np.random.default_rng(0)
    done = run_listing(fixed, {"x_train": rng.normal(size=(64, 16)), "y_train": rng.integers(0, 10, 64)})
    assert done.ok and done.namespace["model"].count_params() == 16 * 128 + 128 + 128 * 10 + 10
    summaries = epoch_summaries(done.stdout)  # Keras's progress output was captured, one line per epoch
    assert len(summaries) == 10 and summaries[-1].startswith("Epoch 10/10: 2/2") and "\x1b" not in done.stdout
    with pytest.raises(ValueError, match="occurs 0 times"):
        edit_listing(PRINTED_LISTING, {"no such text": ""})


def test_torch_classifier_learns_sentiment(sentences):
    torch.manual_seed(0)
    train, test = sentences.iloc[::2], sentences.iloc[1::2]
    vectorize = TextVectorizer(sequence_length=48).adapt(train.text)
    model = TextClassifier(vectorize.vocabulary_size(), 2, embedding_dim=16, hidden_units=32)
    history = fit(model, vectorize(train.text.tolist()), torch.tensor(train.label.to_numpy()), epochs=3, progress=False)
    assert history[-1]["loss"] < history[0]["loss"]
    accuracy = (predict(model, vectorize(test.text.tolist())).numpy() == test.label.to_numpy()).mean()
    assert accuracy > 0.7


def test_exercise_checks_accept_solutions_and_reject_mistakes(sentences):
    from bigmodel_lib.exercises import ch06

    def formula(v, d, h, c):
        return v * d + ((d + 1) * h + (h + 1) * c if h else (d + 1) * c)

    ch06.check_parameter_formula(formula)
    with pytest.raises(ExerciseFailed):
        ch06.check_parameter_formula(lambda v, d, h, c: v * d + d * (h or 0) + (h or d) * c)  # biases forgotten

    ids = TextVectorizer(sequence_length=20).adapt(sentences.text)(sentences.text.tolist()[:50]).numpy()

    def masked_mean(vectors, ids):
        mask = (ids != 0)[..., None]
        return (vectors * mask).sum(1) / mask.sum(1)

    ch06.check_masked_mean(masked_mean, ids)
    with pytest.raises(ExerciseFailed):
        ch06.check_masked_mean(lambda vectors, ids: vectors.mean(1), ids)

    texts = sentences.text.tolist()[:300]
    ch06.check_vocabulary(lambda texts, n: TextVectorizer(max_tokens=n).adapt(texts).get_vocabulary(), texts)
    with pytest.raises(ExerciseFailed):
        ch06.check_vocabulary(lambda texts, n: sorted(TextVectorizer(max_tokens=n).adapt(texts).get_vocabulary()), texts)

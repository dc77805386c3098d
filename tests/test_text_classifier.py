"""The PyTorch text classifier and its vectoriser against Keras, on the real review sentences."""

import re

import numpy as np
import pytest
import torch

from bigmodel_lib.course.chapters import chapters_dir, read_notebook
from bigmodel_lib.course.listings import edit_listing, epoch_summaries, python_lines, run_listing
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
    # the article's line numbers: line 1 is `pip install tensorflow`, line 9 the hidden Dense layer
    assert (first.error_type, first.line, first.shell_lines) == ("ValueError", 9, (1,))
    assert first.code.startswith("hidden_layer = tf.keras.layers.Dense(128")
    assert "None" in first.message
    fixed = edit_listing(PRINTED_LISTING, {"Input(shape=(None,))": "Input(shape=(16,))"})
    second = run_listing(fixed)
    assert (second.error_type, second.line) == ("NameError", 21)
    assert "x_train" in second.message
    rng = np.random.default_rng(0)
    done = run_listing(fixed, {"x_train": rng.normal(size=(64, 16)), "y_train": rng.integers(0, 10, 64)})
    assert done.ok and done.namespace["model"].count_params() == 16 * 128 + 128 + 128 * 10 + 10
    summaries = epoch_summaries(done.stdout)  # Keras's progress output was captured, one line per epoch
    assert len(summaries) == 10 and summaries[-1].startswith("Epoch 10/10: 2/2") and "\x1b" not in done.stdout
    with pytest.raises(ValueError, match="occurs 0 times"):
        edit_listing(PRINTED_LISTING, {"no such text": ""})


def test_printed_listing_keeps_the_article_text():
    lines = PRINTED_LISTING.splitlines()
    assert lines[0] == "pip install tensorflow"
    assert "input_layer = tf.keras.layers.Input(shape=(None,))" in lines
    assert any(line.startswith("# ") and re.search("[\u4e00-\u9fff]", line) for line in lines), "the Chinese comments"
    assert "from tensorflow.keras" not in PRINTED_LISTING


def test_shell_lines_are_shown_not_run_and_keep_line_numbers():
    source = "pip install nothing-at-all\n!pip3 install x\nx = 1\nraise KeyError(x)\n"
    python, shell = python_lines(source)
    assert shell == (1, 2) and python.splitlines()[2:] == source.splitlines()[2:]
    outcome = run_listing(source)
    assert (outcome.error_type, outcome.line, outcome.code) == ("KeyError", 4, "raise KeyError(x)")
    assert python_lines("import pipes\npipx = 1\n")[1] == (), "only shell commands are commented out"


# Names of the held-out test split in chapter 06: splits.test, test.text, test = ..., x_text_test, y_test, ...
TEST_SPLIT = re.compile(r"\bsplits\.test\b|\btest\s*[.=]|\b\w+_test\b")


def test_chapter_06_never_evaluates_on_test_before_its_final_cell():
    cells = read_notebook(chapters_dir() / "06_text_classifier.ipynb")["cells"]
    source = ["".join(cell["source"]) for cell in cells]
    touching = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code" and TEST_SPLIT.search(source[i])]
    assert len(touching) == 1, f"the test split appears in code cells {touching}: only the final evaluation may use it"
    (final,) = touching
    summary = next(i for i, text in enumerate(source) if text.startswith(("## 小结", "## Summary")))
    later_code = [i for i in range(final + 1, summary) if cells[i]["cell_type"] == "code"]
    assert final < summary and not later_code, "the test evaluation must be the last code cell before the summary"
    assert "evaluate(" in source[final] or "accuracy(" in source[final]
    assert not any("validation_data=(x_text_test" in text for text in source)


def test_the_test_split_pattern_sees_the_old_leaks():
    for leak in ("validation_data=(x_text_test, y_test)", "ids_test = vectorize(x)", "splits.test.text", "test.text"):
        assert TEST_SPLIT.search(leak), leak
    for fine in ("train_test_split(x, train_size=0.8)", "x_text_val", "contest = 1"):
        assert not TEST_SPLIT.search(fine), fine


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

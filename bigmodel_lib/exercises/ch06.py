"""Checks for chapter 06's exercises (the text classifier, as printed and fixed)."""

from __future__ import annotations

import numpy as np

from . import expect, passed

# (vocab_size, embedding_dim, hidden_units or None, num_outputs) the checks try
PARAMETER_CASES = [(4703, 32, 128, 2), (4703, 32, 128, 10), (4703, 32, 128, 1), (1000, 16, None, 2), (20_000, 64, 256, 5)]


def check_parameter_formula(formula) -> str:
    """`formula(vocab_size, embedding_dim, hidden_units, num_outputs)` must equal a real Keras model's count."""
    from ..keras_models.text_classifier import build_keras_text_classifier, make_text_vectorizer

    words = [f"w{i}" for i in range(max(case[0] for case in PARAMETER_CASES))]
    for vocab, dim, hidden, outputs in PARAMETER_CASES:
        got = formula(vocab, dim, hidden, outputs)
        expect(isinstance(got, (int, np.integer)), f"return an int, not {type(got).__name__}.")
        vectorize = make_text_vectorizer(words, max_tokens=vocab, sequence_length=8)
        model = build_keras_text_classifier(
            vectorize, num_classes=max(outputs, 2), head="sigmoid" if outputs == 1 else "softmax",
            embedding_dim=dim, hidden_units=hidden, compile=False,
        )
        expected = model.count_params()
        expect(
            got == expected,
            f"for vocab={vocab}, dim={dim}, hidden={hidden}, outputs={outputs} you give {got}. "
            "Count the embedding table (one row per vocabulary entry), then each Dense layer's kernel AND bias; "
            "pooling has no parameters.",
        )
    return passed("parameter formula")


def _real_sentences(n: int) -> list[str]:
    from ..data import load_sentiment_sentences

    return load_sentiment_sentences()["text"].tolist()[:n]


def check_masked_mean(masked_mean, ids: np.ndarray | None = None) -> str:
    """`masked_mean(vectors (B, L, D), ids (B, L))` must match Keras's masked GlobalAveragePooling1D.

    Without `ids`, the check vectorises 200 real review sentences itself."""
    import keras

    if ids is None:
        from ..keras_models.text_classifier import make_text_vectorizer

        sentences = _real_sentences(200)
        ids = np.asarray(make_text_vectorizer(sentences, max_tokens=2000, sequence_length=32)(sentences))
    rng = np.random.default_rng(0)
    ids = np.asarray(ids)
    ids = ids[(ids != 0).any(1)]  # Keras gives NaN for an all-padding row
    vectors = rng.normal(size=(*ids.shape, 8)).astype("float32")
    expected = np.asarray(keras.layers.GlobalAveragePooling1D()(vectors, mask=ids != 0))
    got = np.asarray(masked_mean(vectors, ids), dtype="float32")
    expect(got.shape == expected.shape, f"expected shape {expected.shape} (one vector per sentence), got {got.shape}.")
    plain = vectors.mean(1)
    expect(not np.allclose(got, plain, atol=1e-5), "this is the mean over all L positions: padding (id 0) must not count.")
    expect(np.allclose(got, expected, atol=1e-5), "divide the sum over real tokens by the NUMBER of real tokens in each sentence.")
    return passed("masked mean pooling")


def check_vocabulary(build_vocabulary, texts=None) -> str:
    """`build_vocabulary(texts, max_tokens)` must return Keras TextVectorization's vocabulary, in order.

    Without `texts`, the check uses 600 real review sentences."""
    from ..keras_models.text_classifier import make_text_vectorizer

    texts = list(texts) if texts is not None else _real_sentences(600)
    for max_tokens in (50, 300):
        expected = make_text_vectorizer(texts, max_tokens=max_tokens, sequence_length=None).get_vocabulary()
        got = list(build_vocabulary(texts, max_tokens))
        expect(len(got) == len(expected), f"max_tokens={max_tokens}: Keras keeps {len(expected)} entries (with '' and '[UNK]'), you have {len(got)}.")
        expect(got[:2] == ["", "[UNK]"], "the first two entries are the padding '' and the OOV token '[UNK]'.")
        wrong = next((i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b), None)
        if wrong is not None:
            expect(
                False,
                f"max_tokens={max_tokens}: entry {wrong} is {got[wrong]!r}, Keras has {expected[wrong]!r}. "
                "Order by count, and break ties between equally frequent words the way Keras does "
                "(look at the lexsort in keras/src/layers/preprocessing/index_lookup.py).",
            )
    return passed("vocabulary like TextVectorization")

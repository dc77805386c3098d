"""MiniLM sentence embeddings vs sentence-transformers, balanced sampling, chapter 02 exercises."""

import numpy as np
import pytest

from bigmodel_lib.data import load_sentiment_sentences, minilm_dir
from bigmodel_lib.data.sampling import balanced_sample
from bigmodel_lib.exercises import ExerciseFailed
from bigmodel_lib.exercises import ch02 as ex
from bigmodel_lib.models.sentence_embeddings import encode_sentences, load_minilm_reference
from bigmodel_lib.numerics import check_matches, transformer_roundings


@pytest.fixture(scope="module")
def sentences():
    table = load_sentiment_sentences()
    longest = table.text.iloc[int(table.text.str.len().argmax())]
    return [table.text.iloc[0], table.text.iloc[1500], longest, table.text.iloc[2999]]


@pytest.mark.reference
def test_matches_sentence_transformers(sentences):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm_dir()), device="cpu").encode(sentences, convert_to_numpy=True)
    ours = encode_sentences(sentences, batch_size=2, device="cpu", progress=False)
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    # MiniLM's 6 blocks, mean pooling and normalisation, on unit vectors (the longest sentence sets T).
    check_matches("embeddings vs sentence-transformers", ours, reference, magnitude=1.0,
                  terms=transformer_roundings(6, 384, 1536, 32, 256) + 256 + 384)


@pytest.mark.reference
def test_padding_and_order_do_not_change_embeddings(sentences):
    alone = np.stack([encode_sentences([s], device="cpu", progress=False)[0] for s in sentences])
    batched = encode_sentences(sentences[::-1], batch_size=4, device="cpu", progress=False)[::-1]
    check_matches("embeddings batched vs alone", batched, alone, magnitude=1.0,
                  terms=transformer_roundings(6, 384, 1536, 32, 256) + 256 + 384)
    check_matches("embedding lengths", np.linalg.norm(alone, axis=1), np.ones(len(alone)), terms=2 * 384)


def test_unnormalised_option_and_errors(sentences):
    raw = encode_sentences(sentences[:2], device="cpu", normalize=False, progress=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    with pytest.raises(TypeError, match="list of sentences"):
        encode_sentences("one string", device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        encode_sentences(sentences, batch_size=0, device="cpu")
    assert encode_sentences([], device="cpu").shape == (0, 384)


def test_model_loaded_once_per_process():
    assert load_minilm_reference("cpu") is load_minilm_reference("cpu")
    model, tokenizer = load_minilm_reference("cpu")
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6


def test_balanced_sample():
    labels = np.array([0] * 50 + [1] * 30)
    pool = np.arange(10, 80)
    picked = balanced_sample(labels, pool, 16, seed=0)
    assert len(picked) == 16 and len(set(picked)) == 16 and set(picked) <= set(pool)
    assert (labels[picked] == 0).sum() == 8
    assert np.array_equal(picked, balanced_sample(labels, pool, 16, seed=0))
    assert not np.array_equal(picked, balanced_sample(labels, pool, 16, seed=1))
    assert np.array_equal(balanced_sample(labels, pool, 500), pool)
    assert sorted(np.bincount(labels[balanced_sample(labels, pool, 7, seed=3)]).tolist()) == [3, 4]
    with pytest.raises(ValueError, match="classes"):
        balanced_sample(labels, pool, 1)


def test_exercise_checks():
    def mean_pool(tokens, mask):
        w = mask[..., None]
        return (tokens * w).sum(1) / w.sum(1)

    def most_similar(q, c):
        c = c / np.linalg.norm(c, axis=1, keepdims=True)
        return int(np.argmax(c @ q))

    assert "passed" in ex.check_mean_pool(mean_pool)
    assert "passed" in ex.check_most_similar(most_similar)
    with pytest.raises(ExerciseFailed):
        ex.check_mean_pool(lambda tokens, mask: tokens.mean(axis=1))
    with pytest.raises(ExerciseFailed):
        ex.check_most_similar(lambda q, c: int(np.argmax(c @ q)))

"""Retrieval metrics against scikit-learn, on real MiniLM-free vectors (sklearn digits as 'embeddings')."""

import numpy as np
import pytest

from bigmodel_lib.evaluation import retrieval
from bigmodel_lib.numerics import check_matches


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float32), d.target


@pytest.mark.reference
def test_cosine_top_k_matches_sklearn(digits):
    from sklearn.metrics.pairwise import cosine_similarity

    x, _ = digits
    scores, index = retrieval.cosine_top_k(x[:20], x[20:], k=5)
    ref = cosine_similarity(x[:20], x[20:])
    # Cosines: two 64-term norms and a 64-term dot product in float32 (|cosine| ≤ 1).
    check_matches("top-5 cosines vs sklearn", scores, np.sort(ref, axis=1)[:, ::-1][:, :5], terms=3 * 64, magnitude=1.0)
    check_matches("cosines at our indices", np.take_along_axis(ref, index, axis=1), scores, terms=3 * 64, magnitude=1.0)


def test_recall_and_mrr_match_sklearn_and_definition(digits):
    from sklearn.metrics import top_k_accuracy_score

    x, y = digits
    queries, docs, yq, yd = x[:200], x[200:], y[:200], y[200:]
    # one document per class: the class centroid, so "rank of the right class" is well defined
    centroids = np.stack([docs[yd == c].mean(0) for c in range(10)])
    _, index = retrieval.cosine_top_k(queries, centroids, k=10)
    ranks = retrieval.relevant_ranks(index, list(range(10)), yq.tolist())
    sims = retrieval.normalize_rows(queries) @ retrieval.normalize_rows(centroids).T
    for k in (1, 3):
        assert retrieval.recall_at_k(ranks, k) == pytest.approx(top_k_accuracy_score(yq, sims, k=k, labels=range(10)))
    assert retrieval.mean_reciprocal_rank(ranks) == pytest.approx(np.mean(1.0 / ranks))
    assert retrieval.recall_at_k(ranks, 1) > 0.8  # centroids of real digits retrieve their class


def test_missing_relevant_doc_scores_zero():
    index = np.array([[0, 1], [1, 0]])
    ranks = retrieval.relevant_ranks(index, ["a", "b"], ["b", {"c", "d"}])
    assert ranks.tolist() == [2, 0]
    assert retrieval.recall_at_k(ranks, 1) == 0.0 and retrieval.recall_at_k(ranks, 2) == 0.5
    assert retrieval.mean_reciprocal_rank(ranks) == pytest.approx(0.25)


def test_best_per_group():
    scores = np.array([[0.1, 0.9, 0.3], [0.5, 0.2, 0.4]])
    labels, grouped = retrieval.best_per_group(scores, ["x", "y", "x"])
    assert labels == ["x", "y"]
    np.testing.assert_allclose(grouped, [[0.3, 0.9], [0.5, 0.2]])

"""Semantic search and its metrics: cosine top-k, recall@k, mean reciprocal rank.

    scores, index = cosine_top_k(query_vecs, doc_vecs, k=5)     # (Q, k) each
    hits = relevant_ranks(index, doc_labels, query_labels)      # rank of the first right doc, or 0
    recall_at_k(hits, 1), mean_reciprocal_rank(hits)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def normalize_rows(x) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def cosine_top_k(queries, docs, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity of each query (Q, D) to each doc (N, D): the top-k scores and doc indices,
    best first, both (Q, k)."""
    sims = normalize_rows(queries) @ normalize_rows(docs).T  # (Q, N)
    k = min(k, sims.shape[1])
    index = np.argsort(-sims, axis=1, kind="stable")[:, :k]  # (Q, k)
    return np.take_along_axis(sims, index, axis=1), index


def relevant_ranks(index: np.ndarray, doc_labels: Sequence, query_labels: Sequence) -> np.ndarray:
    """1-based rank of the first retrieved doc whose label is the query's (0 if none in the top k).

    `query_labels[i]` may be one label or a set of acceptable labels.
    """
    doc_labels = np.asarray(doc_labels, dtype=object)
    ranks = np.zeros(len(query_labels), dtype=int)
    for i, want in enumerate(query_labels):
        want = {want} if isinstance(want, str) or not hasattr(want, "__iter__") else set(want)
        for r, j in enumerate(index[i], start=1):
            if doc_labels[j] in want:
                ranks[i] = r
                break
    return ranks


def recall_at_k(ranks, k: int) -> float:
    """Fraction of queries whose first relevant doc is within the top k."""
    ranks = np.asarray(ranks)
    return float(np.mean((ranks >= 1) & (ranks <= k)))


def mean_reciprocal_rank(ranks) -> float:
    """Mean of 1/rank (0 for queries with no relevant doc retrieved)."""
    ranks = np.asarray(ranks, dtype=float)
    return float(np.mean(np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)))


def best_per_group(scores: np.ndarray, groups: Sequence) -> tuple[list, np.ndarray]:
    """Collapse passage scores (Q, N) to one score per group (e.g. topic) by the max: (labels, (Q, G))."""
    groups = np.asarray(groups, dtype=object)
    labels = list(dict.fromkeys(groups.tolist()))
    out = np.stack([scores[:, groups == g].max(axis=1) for g in labels], axis=1)
    return labels, out

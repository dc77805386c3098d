"""Cheap baselines a trained model has to beat."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def tfidf_baseline(train_texts: Iterable[str], train_labels, C: float = 10.0):
    """Word 1-2-gram TF-IDF + logistic regression: the cheap bar every fine-tuned model must beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                         LogisticRegression(C=C, max_iter=2000))
    return pipe.fit(list(train_texts), np.asarray(train_labels))

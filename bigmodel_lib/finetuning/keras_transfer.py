"""Transfer learning in Keras: chapter 06's text classifier trained on two review domains, then
fine-tuned on the third with a handful of labels — against the same network trained from scratch
on those same labels.

    curve = few_label_transfer(splits.train, splits.test, target="yelp", sizes=(16, 32, 64, 128))
    model = train_keras_classifier(splits.train.text, splits.train.label, epochs=8)
    log_p = keras_log_probs(model, splits.test.text)          # (N, 2), comparable to torch logits

Both arms share one `TextVectorization` vocabulary (adapted on the source domains' training text),
so the only difference between them is where the weights start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TRANSFERRED = ("embedding", "hidden", "head")  # the layers that carry learned weights


EMPTY = "[no words]"


def _as_strings(texts: Sequence[str]) -> np.ndarray:
    """Texts as a numpy string array. A text without letters or digits (an SMS ":-)") would vectorise
    to padding only, and the masked average over zero tokens is 0/0 = NaN, which poisons training:
    such texts become `EMPTY`, one out-of-vocabulary token."""
    return np.asarray([t if any(c.isalnum() for c in t) else EMPTY for t in map(str, texts)], dtype=object)


def fit_keras(model, texts: Sequence[str], labels, *, epochs: int, batch_size: int = 16, seed: int = 0):
    """`model.fit` with a fixed seed and no console output; returns the model."""
    import keras

    keras.utils.set_random_seed(seed)
    model.fit(_as_strings(texts), np.asarray(labels), epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    return model


def keras_log_probs(model, texts: Sequence[str], eps: float = 1e-7) -> np.ndarray:
    """log P(class) (N, n_classes) from a softmax-head Keras classifier: a stand-in for logits
    (softmax of log-probabilities gives the probabilities back)."""
    p = model.predict(_as_strings(texts), verbose=0, batch_size=256)
    return np.log(np.clip(p.astype(np.float64), eps, 1.0))


def train_keras_classifier(texts: Sequence[str], labels, *, epochs: int = 8, seed: int = 0,
                           learning_rate: float = 1e-3, batch_size: int = 32, **build_kwargs):
    """Chapter 06's classifier (softmax head) with its own vocabulary, trained on `texts`."""
    import keras

    from ..keras_models.text_classifier import build_keras_text_classifier

    keras.utils.set_random_seed(seed)
    model = build_keras_text_classifier(list(_as_strings(texts)), int(np.max(labels)) + 1, learning_rate=learning_rate, **build_kwargs)
    return fit_keras(model, texts, labels, epochs=epochs, batch_size=batch_size, seed=seed)


def copy_weights(src, dst) -> None:
    """Copy the learned layers (embedding, hidden, head) of one classifier into another."""
    for name in TRANSFERRED:
        dst.get_layer(name).set_weights(src.get_layer(name).get_weights())


def sample_labels(df, n: int, seed: int):
    """`n` rows with balanced labels (n/2 per class), drawn with `seed`."""
    import pandas as pd

    groups = [g for _, g in df.groupby("label")]
    wanted = [n // len(groups) + (i < n % len(groups)) for i in range(len(groups))]
    for g, k in zip(groups, wanted, strict=True):
        if len(g) < k:
            raise ValueError(f"Asked for {n} balanced labels, but label {g.label.iloc[0]} has only {len(g)} rows "
                             f"to draw {k} from: use a smaller size (at most {len(groups) * min(map(len, groups))}).")
    return pd.concat([g.sample(k, random_state=seed) for g, k in zip(groups, wanted, strict=True)])


def few_label_transfer(train, test, target: str, sizes: Sequence[int] = (16, 32, 64, 128),
                       seeds: Sequence[int] = (0, 1, 2), source_epochs: int = 8, epochs: int = 30,
                       learning_rate: float = 1e-3, progress: bool = True):
    """Accuracy on `target`'s test sentences vs the number of target labels, for two starts:

    - "transfer": trained on the other domains' training sentences, then fine-tuned on n target labels;
    - "scratch": the same network and vocabulary, fresh weights, trained on the same n labels;
    plus n = 0 for the source model as it is ("transfer", zero-shot to the new domain).

    `train`/`test` are tables with `text`, `label`, `domain`. Returns a DataFrame
    (method, n_labels, seed, accuracy) and the source model.
    """
    import keras
    import pandas as pd
    from tqdm.auto import tqdm

    from ..keras_models.text_classifier import build_keras_text_classifier, make_text_vectorizer

    if target not in set(train.domain):
        raise ValueError(f"target domain {target!r} not in {sorted(set(train.domain))}")
    source, pool = train[train.domain != target], train[train.domain == target]
    tgt_test = test[test.domain == target]
    if max(sizes) > len(pool):
        raise ValueError(f"asked for {max(sizes)} labels but the target domain has {len(pool)} training sentences")
    vectorize = make_text_vectorizer(_as_strings(source.text))
    keras.utils.set_random_seed(0)
    base = build_keras_text_classifier(vectorize, 2, learning_rate=learning_rate)
    fit_keras(base, source.text, source.label, epochs=source_epochs, batch_size=32)

    def accuracy(model) -> float:
        return float((keras_log_probs(model, tgt_test.text).argmax(1) == tgt_test.label.to_numpy()).mean())

    rows = [{"method": "transfer", "n_labels": 0, "seed": s, "accuracy": accuracy(base)} for s in seeds[:1]]
    jobs = [(n, s) for n in sizes for s in seeds]
    for n, s in tqdm(jobs, desc=f"few-label {target}", disable=not progress, mininterval=1.0):
        few = sample_labels(pool, n, seed=s)
        for method in ("transfer", "scratch"):
            keras.utils.set_random_seed(s)
            model = build_keras_text_classifier(vectorize, 2, learning_rate=learning_rate)
            if method == "transfer":
                copy_weights(base, model)
            fit_keras(model, few.text, few.label, epochs=epochs, batch_size=16, seed=s)
            rows.append({"method": method, "n_labels": n, "seed": s, "accuracy": accuracy(model)})
    return pd.DataFrame(rows), base

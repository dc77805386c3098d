"""Train / validation / test splits of labelled texts: deduplicated, stratified, with a fixed seed.

    splits = sentiment_splits(seed=0)      # TextSplits(train, val, test), 70% / 10% / 20%
    model.fit(splits.train ...); choose epochs and settings on splits.val; report splits.test once

One split per data set and seed, so every chapter that uses it sees the same test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class TextSplits:
    """Train / validation / test tables with columns `text`, `label` (int) and maybe `domain`."""

    name: str
    classes: list[str]
    train: object
    val: object
    test: object

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def make_splits(df, name: str, classes: list[str], stratify: Sequence[str] = ("label",),
                test_size: float = 0.2, val_size: float = 0.1, seed: int = 0) -> TextSplits:
    """Drop duplicate texts *before* splitting (a duplicate in train and test is a leak), then
    split once, stratified on `stratify`, with a fixed seed: every chapter sees the same test set."""
    from sklearn.model_selection import train_test_split

    df = df.drop_duplicates("text").reset_index(drop=True)
    key = df[list(stratify)].astype(str).agg("|".join, axis=1)
    rest, test = train_test_split(df, test_size=test_size, random_state=seed, stratify=key)
    key_rest = rest[list(stratify)].astype(str).agg("|".join, axis=1)
    train, val = train_test_split(rest, test_size=val_size / (1 - test_size), random_state=seed,
                                  stratify=key_rest)
    return TextSplits(name, classes, *(d.reset_index(drop=True) for d in (train, val, test)))


def sms_splits(seed: int = 0) -> TextSplits:
    """UCI SMS spam, label 1 = spam; 5,169 unique messages → 70% / 10% / 20%."""
    from .datasets import load_sms_spam

    df = load_sms_spam()
    df = df.assign(label=(df.label == "spam").astype(int))[["text", "label"]]
    return make_splits(df, "sms_spam", ["ham", "spam"], seed=seed)


def sentiment_splits(seed: int = 0) -> TextSplits:
    """The 3,000 review sentences (label 1 = positive), stratified by domain and label."""
    from .datasets import load_sentiment_sentences

    return make_splits(load_sentiment_sentences(), "sentiment", ["negative", "positive"],
                       stratify=("domain", "label"), seed=seed)

"""Checks for chapter 04's exercises (data collection and preprocessing)."""

from __future__ import annotations

import numpy as np

from . import expect, passed


def check_shingle_jaccard(shingle_jaccard) -> str:
    """Exercise 1: `shingle_jaccard(a, b, k)` = Jaccard similarity of the k-character shingle sets."""
    from ..data import load_sms_spam
    from ..data.text import char_shingles, jaccard

    texts = load_sms_spam()["text"].tolist()
    pairs = [
        (texts[0], texts[0], 5),
        ("abcdef", "abcxyz", 3),
        ("ab", "abc", 5),
        ("ok", "ok", 5),
        ("hello world", "hello there", 2),
    ]
    rng = np.random.default_rng(4)
    pairs += [
        (texts[i], texts[j], k) for (i, j), k in zip(rng.integers(0, len(texts), (5, 2)), (3, 4, 5, 6, 7), strict=True)
    ]
    for a, b, k in pairs:
        got = shingle_jaccard(a, b, k)
        want = jaccard(char_shingles(a, k), char_shingles(b, k))
        expect(isinstance(got, float | int), "return a number between 0 and 1.")
        expect(
            abs(got - want) < 1e-12,
            f"for k={k}, texts of length {len(a)} and {len(b)}: shingles are the overlapping substrings "
            "text[i:i+k]; a text no longer than k is a single shingle; Jaccard = |A∩B| / |A∪B|.",
        )
    return passed("Exercise 1 (shingle Jaccard)")


def check_most_frequent_pair(most_frequent_pair) -> str:
    """Exercise 2: the pair a BPE trainer merges next, from {word as tuple of ids: count}."""
    cases = [
        ({(1, 2, 3): 2, (1, 2): 1}, (1, 2)),  # (1,2) occurs 3 times
        ({(5, 5, 5): 1}, (5, 5)),  # overlapping occurrences count twice
        ({(3, 4): 2, (1, 2): 2}, (1, 2)),  # tie: the smaller pair wins
        ({(9, 8, 7, 9, 8): 1, (7, 9): 3}, (7, 9)),
        ({(1, 2, 1, 2): 1, (3, 4): 5}, (3, 4)),  # weighted by the word counts
    ]
    for words, want in cases:
        got = most_frequent_pair(dict(words))
        expect(got is not None, "return a pair (a, b), not None.")
        expect(
            tuple(got) == want,
            f"for {words}: count every adjacent pair in every word, weighted by the word's count; "
            "break ties by the smaller pair (compare (a, b) tuples).",
        )
    expect(most_frequent_pair({(1,): 4}) is None, "a corpus of single-token words has no pair: return None.")
    return passed("Exercise 2 (BPE's next merge)")


def check_exact_leak_count(count_exact_leaks) -> str:
    """Exercise 3: how many test texts also occur in the training texts (after `dedup_key`)."""
    from ..data import load_sms_spam
    from ..data.text import leaked, train_val_test_split

    df = load_sms_spam()
    for seed in (0, 1):
        train, _, test = train_val_test_split(df, "label", (0.8, 0.0, 0.2), seed=seed)
        want = int(leaked(train["text"], test["text"], near_threshold=None).sum())
        got = count_exact_leaks(train["text"].tolist(), test["text"].tolist())
        expect(
            int(got) == want,
            "normalise both sides with dedup_key (NFKC, whitespace, case) before comparing, and count "
            "test texts (with repeats) whose key is in the set of training keys.",
        )
    return passed("Exercise 3 (counting leaks)")

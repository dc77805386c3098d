"""Chapter 04's exercise checks accept right answers and reject wrong ones."""

from collections import Counter

import pytest

from bigmodel_lib.data.text import char_shingles, dedup_key, jaccard
from bigmodel_lib.exercises import ExerciseFailed, ch04


def test_shingle_jaccard_check():
    assert "passed" in ch04.check_shingle_jaccard(lambda a, b, k: jaccard(char_shingles(a, k), char_shingles(b, k)))
    with pytest.raises(ExerciseFailed):  # forgets that a short text is one shingle
        ch04.check_shingle_jaccard(
            lambda a, b, k: (
                jaccard({a[i : i + k] for i in range(len(a) - k + 1)}, {b[i : i + k] for i in range(len(b) - k + 1)})
                if len(a) > k and len(b) > k
                else 0.0
            )
        )


def most_frequent_pair(word_counts):
    pairs = Counter()
    for word, count in word_counts.items():
        for pair in zip(word, word[1:], strict=False):
            pairs[pair] += count
    return min(pairs, key=lambda p: (-pairs[p], p)) if pairs else None


def test_most_frequent_pair_check():
    assert "passed" in ch04.check_most_frequent_pair(most_frequent_pair)
    with pytest.raises(ExerciseFailed):  # ignores the word counts
        ch04.check_most_frequent_pair(lambda wc: most_frequent_pair(dict.fromkeys(wc, 1)))


def test_exact_leak_count_check():
    def right(train, test):
        seen = {dedup_key(t) for t in train}
        return sum(dedup_key(t) in seen for t in test)

    assert "passed" in ch04.check_exact_leak_count(right)
    with pytest.raises(ExerciseFailed):  # compares raw strings
        ch04.check_exact_leak_count(lambda train, test: sum(t in set(train) for t in test))

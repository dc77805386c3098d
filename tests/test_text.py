"""Text preparation: normalisation, quality filter, exact/near duplicates, PII, leakage-free splits."""

import numpy as np
import pandas as pd
import pytest

from bigmodel_lib.data import load_sms_spam
from bigmodel_lib.data.text import (
    MinHasher,
    QualityRules,
    char_shingles,
    dedup_key,
    deduplicate,
    exact_duplicate_groups,
    exact_jaccard_pairs,
    find_duplicates,
    fix_cp1252_controls,
    jaccard,
    leaked,
    lsh_candidate_pairs,
    near_duplicate_pairs,
    normalize_text,
    quality_filter,
    quality_flags,
    scrub_pii,
    scrub_pii_all,
    train_val_test_split,
    union_find_clusters,
)


@pytest.fixture(scope="module")
def sms():
    return load_sms_spam()


@pytest.fixture(scope="module")
def sms_keys(sms):
    keys = [dedup_key(t) for t in sms["text"][:1500]]
    return list(dict.fromkeys(keys))  # distinct texts, first occurrence order


def test_normalize_text():
    assert normalize_text("ＡＢＣ　１２３") == "ABC 123"  # full-width forms and ideographic space
    assert normalize_text("ﬁne\u00a0day") == "fine day"
    assert normalize_text("zero\u200bwidth\ufeff") == "zerowidth"
    assert normalize_text("a\x00b\x07c") == "a b c"
    assert normalize_text("  many \t\n spaces  ") == "many spaces"
    assert normalize_text("line 1\n\n\n\nline 2  x", keep_newlines=True) == "line 1\n\nline 2 x"
    assert fix_cp1252_controls("I\x92m \x93ok\x94") == "I’m “ok”"
    assert fix_cp1252_controls("\x81") == "\x81"  # undefined in cp1252: kept
    assert normalize_text("I\x92m") == "I’m"  # the cp1252 fix ran (NFKC keeps ’)
    assert normalize_text("I\x92m", fix_cp1252=False) == "I m"


def test_quality_flags_and_filter():
    assert not any(quality_flags("A perfectly ordinary sentence.").values())
    flags = quality_flags("Ok")
    assert flags["too_short"]
    assert quality_flags("1234 5678 9999")["few_letters"]
    assert quality_flags("aaaaaaaa aaaa")["repetitive"]
    assert quality_flags("!!! ??? ok")["mostly_symbols"]
    assert quality_flags("word " * 20, QualityRules(max_words=10))["too_long"]
    table = quality_filter(["A perfectly ordinary sentence.", "Ok"])
    assert table["keep"].tolist() == [True, False]


def test_exact_groups_and_clusters():
    groups = exact_duplicate_groups(["Hi there", "hi  THERE", "other", "Hi there"])
    assert groups.tolist() == [0, 0, 2, 0]
    assert union_find_clusters(5, [(3, 4), (1, 4), (0, 2)]).tolist() == [0, 1, 0, 1, 1]


def test_shingles_and_jaccard():
    assert char_shingles("abcdef", 3) == {"abc", "bcd", "cde", "def"}
    assert char_shingles("ab", 5) == {"ab"}
    assert jaccard({1, 2, 3}, {2, 3, 4}) == pytest.approx(0.5)
    assert jaccard(set(), set()) == 1.0


def test_minhash_estimates_exact_jaccard(sms_keys):
    """On real SMS pairs, the MinHash estimate is close to the exact Jaccard similarity."""
    hasher = MinHasher(num_perm=256, k=5, seed=1)
    sig = hasher.signatures(sms_keys)
    assert sig.shape == (len(sms_keys), 256)
    rng = np.random.default_rng(0)
    shingles = [char_shingles(t) for t in sms_keys]
    # pairs that share something (LSH candidates at a low bar) plus random pairs
    pairs = sorted(lsh_candidate_pairs(sig, 128))[:200]
    pairs += [tuple(rng.choice(len(sms_keys), 2, replace=False)) for _ in range(200)]
    errors = np.array([MinHasher.estimate(sig[i], sig[j]) - jaccard(shingles[i], shingles[j]) for i, j in pairs])
    assert np.abs(errors).mean() < 0.03
    assert np.abs(errors).max() < 0.15  # ~4.5 standard errors at J = 0.5 with 256 hashes
    assert MinHasher.estimate(sig[0], sig[0]) == 1.0


def test_lsh_finds_every_near_duplicate_the_brute_force_finds(sms_keys):
    reference = exact_jaccard_pairs(sms_keys, threshold=0.7)
    found = near_duplicate_pairs(sms_keys, threshold=0.7)
    assert len(reference) >= 10  # the SMS set has real near duplicates
    assert [(i, j) for i, j, _ in found] == [(i, j) for i, j, _ in reference]
    for (_, _, a), (_, _, b) in zip(found, reference, strict=True):
        assert a == pytest.approx(b)


def test_find_duplicates_and_deduplicate(sms):
    texts = sms["text"][:1500].tolist()
    report = find_duplicates(texts, near_threshold=0.8)
    keys = [dedup_key(t) for t in texts]
    assert report.n_exact_duplicates == len(keys) - len(set(keys)) > 0
    assert report.n_near_duplicates >= 1
    assert report.keep.sum() == len(texts) - report.n_exact_duplicates - report.n_near_duplicates
    kept = [keys[i] for i in np.flatnonzero(report.keep)]
    assert len(kept) == len(set(kept))
    assert exact_jaccard_pairs(kept, 0.8) == []  # nothing near-duplicate remains
    deduped = deduplicate(sms.iloc[:1500], "text")
    assert len(deduped) == report.keep.sum()
    no_near = find_duplicates(texts, near_threshold=None)
    assert no_near.n_near_duplicates == 0


def test_scrub_pii():
    text, counts = scrub_pii(
        "Mail jo.bloggs@example.co.uk or see www.example.com/x, call 07700 900123 or +447700900123 now"
    )
    assert text == "Mail <EMAIL> or see <URL> call <PHONE> or <PHONE> now"
    assert counts == {"email": 1, "url": 1, "phone": 2}
    untouched = "Costs £1000, reply 87121, 2 for 10p at 4.30"
    assert scrub_pii(untouched)[0] == untouched
    assert scrub_pii("http://doit. now")[1]["url"] == 1


def test_scrub_pii_on_sms_finds_real_numbers(sms):
    scrubbed, counts = scrub_pii_all(sms["text"])
    assert counts["phone"] > 300 and counts["url"] > 100 and counts["email"] >= 5
    assert sum(t.count("<PHONE>") for t in scrubbed) == counts["phone"]
    assert not any(PHONE in t for t in scrubbed for PHONE in ("09061701461", "08000930705"))


def test_train_val_test_split_is_stratified_reproducible_and_disjoint(sms):
    deduped = deduplicate(sms, "text", near_threshold=None)
    train, val, test = train_val_test_split(deduped, "label", (0.8, 0.1, 0.1), seed=3)
    assert len(train) + len(val) + len(test) == len(deduped)
    assert abs(len(test) - 0.1 * len(deduped)) <= 1
    spam = (deduped["label"] == "spam").mean()
    for part in (train, val, test):
        assert (part["label"] == "spam").mean() == pytest.approx(spam, abs=0.01)
    again = train_val_test_split(deduped, "label", (0.8, 0.1, 0.1), seed=3)
    assert again[2]["text"].tolist() == test["text"].tolist()
    assert not leaked(train["text"], test["text"], near_threshold=None).any()
    with pytest.raises(ValueError, match="sum to 1"):
        train_val_test_split(deduped, "label", (0.8, 0.1, 0.2))
    train2, val2, test2 = train_val_test_split(deduped, "label", (0.9, 0.0, 0.1), seed=3)
    assert len(val2) == 0 and len(train2) + len(test2) == len(deduped)


def test_leaked_detects_exact_and_near_copies():
    train = ["You have won a prize, call now to claim it today", "see you at lunch"]
    test = [
        "YOU HAVE WON A PRIZE, call now to claim it today",
        "You have won a prize! call now to claim it today!",
        "something else entirely",
    ]
    assert leaked(train, test, near_threshold=None).tolist() == [True, False, False]
    assert leaked(train, test, near_threshold=0.7).tolist() == [True, True, False]


def test_split_without_dedup_leaks(sms):
    train, _, test = train_val_test_split(sms, "label", (0.8, 0.0, 0.2), seed=0)
    assert leaked(train["text"], test["text"], near_threshold=None).sum() > 10
    frame = pd.DataFrame({"text": ["a", "b"], "label": [0, 1]})
    assert len(deduplicate(frame, "text")) == 2

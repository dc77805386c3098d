"""Text preparation: normalise, filter, deduplicate (exact and near), scrub PII, split without leakage.

    clean = [normalize_text(t) for t in texts]
    dups = find_duplicates(clean, near_threshold=0.8)       # exact + MinHash/LSH near duplicates
    deduped = deduplicate(df, "text")                        # first member of each cluster kept
    masked, counts = scrub_pii_all(deduped["text"])          # <EMAIL>, <URL>, <PHONE>
    train, val, test = train_val_test_split(deduped, "label", (0.8, 0.1, 0.1), seed=0)

Near duplicates are found with MinHash signatures of character shingles and locality-sensitive
hashing (bands of rows): candidate pairs are then verified with the exact Jaccard similarity, so
every reported pair is a true pair; `exact_jaccard_pairs` is the brute-force reference that
shows how many true pairs the hashing missed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------------------- cleaning
_KEEP_CONTROLS = {"\n", "\t"}
_ZWJ = "\u200d"  # joins emoji sequences: keep


def fix_cp1252_controls(text: str) -> str:
    """Turn C1 control characters U+0080–U+009F back into the Windows-1252 characters they were.

    Text decoded as Latin-1 when it was Windows-1252 shows smart quotes as C1 controls
    (U+0092 instead of ’). Code points that cp1252 leaves undefined are kept as they are.
    """

    def repair(match: re.Match) -> str:
        try:
            return bytes([ord(match.group())]).decode("cp1252")
        except UnicodeDecodeError:
            return match.group()

    return re.sub("[\u0080-\u009f]", repair, text)


def normalize_text(text: str, form: str = "NFKC", fix_cp1252: bool = True, keep_newlines: bool = False) -> str:
    """Unicode-normalise, drop control and invisible format characters, collapse whitespace.

    NFKC folds compatibility forms (full-width ＡＢＣ → ABC, ligatures ﬁ → fi, non-breaking
    space → space), so text that looks the same compares equal.
    """
    if fix_cp1252:
        text = fix_cp1252_controls(text)
    text = unicodedata.normalize(form, text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in _KEEP_CONTROLS:
            kept.append(" ")
        elif category == "Cf" and ch != _ZWJ:
            continue  # zero-width space, byte-order mark, direction marks
        else:
            kept.append(ch)
    text = "".join(kept)
    if keep_newlines:
        text = re.sub(r"[^\S\n]+", " ", text)
        text = re.sub(r" *\n *", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip()
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------- quality filter
@dataclass(frozen=True)
class QualityRules:
    """Heuristic document-quality rules in the spirit of the Gopher/C4 filters."""

    min_words: int = 2
    max_words: int = 1000
    min_alpha_fraction: float = 0.5  # letters among non-space characters
    max_top_char_fraction: float = 0.5  # the most frequent non-space character
    max_symbol_word_fraction: float = 0.5  # words without a letter or digit


def quality_flags(text: str, rules: QualityRules = QualityRules()) -> dict[str, bool]:
    """Which rules `text` breaks (True = problem)."""
    words = text.split()
    chars = [ch for ch in text if not ch.isspace()]
    n_chars = max(len(chars), 1)
    top_char = Counter(chars).most_common(1)[0][1] if chars else 0
    symbol_words = sum(not any(ch.isalnum() for ch in w) for w in words)
    return {
        "too_short": len(words) < rules.min_words,
        "too_long": len(words) > rules.max_words,
        "few_letters": sum(ch.isalpha() for ch in chars) / n_chars < rules.min_alpha_fraction,
        "repetitive": top_char / n_chars > rules.max_top_char_fraction,
        "mostly_symbols": bool(words) and symbol_words / len(words) > rules.max_symbol_word_fraction,
    }


def quality_filter(texts, rules: QualityRules = QualityRules()):
    """A table with one column per rule (True = broken) and `keep` (no rule broken)."""
    import pandas as pd

    table = pd.DataFrame([quality_flags(t, rules) for t in texts])
    table["keep"] = ~table.any(axis=1)
    return table


# ---------------------------------------------------------------------------- duplicates
def dedup_key(text: str) -> str:
    """What counts as "the same text" for exact deduplication: normalised and case-folded."""
    return normalize_text(text).casefold()


def exact_duplicate_groups(texts, key=dedup_key) -> np.ndarray:
    """For each text, the index of the first text with the same key (itself if it is the first)."""
    first: dict[str, int] = {}
    return np.array([first.setdefault(key(t), i) for i, t in enumerate(texts)], dtype=np.int64)


def char_shingles(text: str, k: int = 5) -> set[str]:
    """The set of overlapping k-character substrings (a text shorter than k is its own shingle)."""
    if len(text) <= k:
        return {text}
    return {text[i : i + k] for i in range(len(text) - k + 1)}


def jaccard(a: set, b: set) -> float:
    """|A ∩ B| / |A ∪ B| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class MinHasher:
    """MinHash signatures of character shingles: P(sig_a[i] == sig_b[i]) = Jaccard(A, B).

    Each distinct shingle gets a random 64-bit code (fixed by `seed`, in order of first
    appearance); hash function i is h_i(x) = (a_i·x + b_i) >> 32 with 64-bit wrap-around (a random
    shuffle of the codes); the signature keeps each function's minimum over the text's shingles.
    """

    def __init__(self, num_perm: int = 128, k: int = 5, seed: int = 0):
        self.num_perm, self.k, self.seed = num_perm, k, seed
        rng = np.random.default_rng(seed)
        self.a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
        self.b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)

    def signatures(self, texts) -> np.ndarray:
        """(n_texts, num_perm) uint64: row t, column i holds min over t's shingles x of h_i(x)."""
        shingle_id: dict[str, int] = {}
        ids = [[shingle_id.setdefault(s, len(shingle_id)) for s in char_shingles(t, self.k)] for t in texts]
        codes = np.random.default_rng([self.seed, 1]).integers(0, 1 << 63, size=len(shingle_id), dtype=np.uint64)
        out = np.empty((len(ids), self.num_perm), dtype=np.uint64)
        with np.errstate(over="ignore"):  # the wrap-around is intended
            for row, text_ids in enumerate(ids):
                x = codes[text_ids]  # (shingles,)
                hashes = (self.a[:, None] * x[None, :] + self.b[:, None]) >> np.uint64(32)  # (num_perm, shingles)
                out[row] = hashes.min(axis=1)
        return out

    @staticmethod
    def estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
        """Estimated Jaccard similarity: the fraction of equal signature entries."""
        return float(np.mean(sig_a == sig_b))


def lsh_candidate_pairs(signatures: np.ndarray, bands: int) -> set[tuple[int, int]]:
    """Pairs (i < j) that share at least one band (rows = num_perm / bands) of their signatures."""
    n, num_perm = signatures.shape
    if num_perm % bands:
        raise ValueError(f"num_perm={num_perm} is not divisible by bands={bands}.")
    rows = num_perm // bands
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        for i in range(n):
            buckets[block[i].tobytes()].append(i)
        for members in buckets.values():
            if len(members) > 1:
                pairs.update((members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members)))
    return pairs


def near_duplicate_pairs(
    texts, threshold: float = 0.8, k: int = 5, num_perm: int = 128, bands: int = 32, seed: int = 0
) -> list[tuple[int, int, float]]:
    """(i, j, Jaccard) for pairs of texts whose shingle Jaccard is ≥ `threshold`, found by MinHash + LSH.

    Candidates from LSH are verified with the exact Jaccard similarity, so precision is 1; pairs
    LSH never proposed are missed (rarely, at the default 32 bands of 4 rows).
    """
    texts = list(texts)
    signatures = MinHasher(num_perm, k, seed).signatures(texts)
    shingles = [char_shingles(t, k) for t in texts]
    found = []
    for i, j in sorted(lsh_candidate_pairs(signatures, bands)):
        similarity = jaccard(shingles[i], shingles[j])
        if similarity >= threshold:
            found.append((i, j, similarity))
    return found


def exact_jaccard_pairs(texts, threshold: float = 0.8, k: int = 5, block: int = 1000) -> list[tuple[int, int, float]]:
    """Brute force reference: every pair with Jaccard ≥ `threshold`, from a sparse shingle matrix."""
    from scipy import sparse

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        for s in char_shingles(text, k):
            rows.append(i)
            cols.append(vocab.setdefault(s, len(vocab)))
    n = len(texts)
    X = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(vocab)))
    sizes = np.asarray(X.sum(axis=1)).ravel()
    found = []
    for lo in range(0, n, block):
        inter = (X[lo : lo + block] @ X.T).toarray()  # (block, n) |A ∩ B|
        union = sizes[lo : lo + block, None] + sizes[None, :] - inter
        sim = inter / union
        for a, j in zip(*np.nonzero(sim >= threshold), strict=True):
            i = lo + a
            if i < j:
                found.append((int(i), int(j), float(sim[a, j])))
    return sorted(found)


def union_find_clusters(n: int, pairs) -> np.ndarray:
    """Cluster id (the smallest member index) of each of n items, linking every (i, j, ...) pair."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        ri, rj = root(pair[0]), root(pair[1])
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return np.array([root(i) for i in range(n)], dtype=np.int64)


@dataclass
class DuplicateReport:
    """Exact and near duplicates of a list of texts."""

    exact_group: np.ndarray  # index of the first text with the same dedup_key
    cluster: np.ndarray  # exact groups joined by near-duplicate pairs (smallest index)
    near_pairs: list[tuple[int, int, float]]  # among the exact-group representatives

    @property
    def n_texts(self) -> int:
        return len(self.cluster)

    @property
    def n_exact_duplicates(self) -> int:
        """Texts that repeat an earlier one exactly (after normalisation and case folding)."""
        return int(np.sum(self.exact_group != np.arange(self.n_texts)))

    @property
    def n_near_duplicates(self) -> int:
        """Further texts removed because they nearly duplicate a kept one."""
        return int(np.sum(self.cluster != np.arange(self.n_texts))) - self.n_exact_duplicates

    @property
    def keep(self) -> np.ndarray:
        """Boolean mask: the first member of each cluster."""
        return self.cluster == np.arange(self.n_texts)


def find_duplicates(texts, near_threshold: float | None = 0.8, **minhash) -> DuplicateReport:
    """Exact duplicates by `dedup_key`, then near duplicates (MinHash + LSH) among the rest."""
    keys = [dedup_key(t) for t in texts]
    exact = exact_duplicate_groups(keys, key=lambda k: k)
    representatives = np.flatnonzero(exact == np.arange(len(keys)))
    near = []
    if near_threshold is not None:
        found = near_duplicate_pairs([keys[i] for i in representatives], near_threshold, **minhash)
        near = [(int(representatives[i]), int(representatives[j]), s) for i, j, s in found]
    cluster = union_find_clusters(len(keys), [(i, int(g)) for i, g in enumerate(exact)] + near)
    return DuplicateReport(exact_group=exact, cluster=cluster, near_pairs=near)


def deduplicate(df, text_col: str, near_threshold: float | None = 0.8, **minhash):
    """The rows of `df` that are the first of their duplicate cluster (index reset)."""
    report = find_duplicates(df[text_col].tolist(), near_threshold, **minhash)
    return df.loc[report.keep].reset_index(drop=True)


# ---------------------------------------------------------------------------- PII
PII_PATTERNS: dict[str, re.Pattern] = {
    # scrubbed in this order: an e-mail address contains a domain that looks like a URL
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[a-z]{2,6}\b"),
    "url": re.compile(
        r"\bhttps?://\S+|\bwww\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|biz|info|co\.uk|org\.uk|ac\.uk)\b(?:/\S*)?",
        re.IGNORECASE,
    ),
    # 10 to 13 digits, optionally with a leading + and single spaces or hyphens between digits
    "phone": re.compile(r"(?<![\w£$.])\+?\d(?:[ -]?\d){9,12}(?![\w.]?\d)"),
}


def scrub_pii(text: str) -> tuple[str, Counter]:
    """Replace e-mail addresses, URLs and phone numbers by <EMAIL>, <URL>, <PHONE>; count each."""
    counts: Counter = Counter()
    for name, pattern in PII_PATTERNS.items():
        text, n = pattern.subn(f"<{name.upper()}>", text)
        counts[name] += n
    return text, counts


def scrub_pii_all(texts) -> tuple[list[str], Counter]:
    """`scrub_pii` over many texts: the scrubbed texts and the total count per kind."""
    total: Counter = Counter()
    out = []
    for text in texts:
        scrubbed, counts = scrub_pii(text)
        out.append(scrubbed)
        total.update(counts)
    for name in PII_PATTERNS:
        total.setdefault(name, 0)
    return out, total


# ---------------------------------------------------------------------------- splitting
def train_val_test_split(df, label_col: str, sizes: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0):
    """Stratified train / validation / test split with a fixed seed (deduplicate first!).

    Returns three DataFrames whose label proportions match `df`'s. A duplicate left in the data
    can land on both sides of the split and inflate the measured accuracy: run `deduplicate`
    before this function (and `leaked` after it to check).
    """
    from sklearn.model_selection import train_test_split

    if len(sizes) != 3 or abs(sum(sizes) - 1.0) > 1e-9 or min(sizes) < 0:
        raise ValueError(f"sizes must be three non-negative fractions that sum to 1, got {sizes}.")
    train_frac, val_frac, test_frac = sizes
    rest, test = train_test_split(df, test_size=test_frac, stratify=df[label_col], random_state=seed)
    if val_frac == 0:
        return rest.reset_index(drop=True), rest.iloc[:0].reset_index(drop=True), test.reset_index(drop=True)
    train, val = train_test_split(
        rest, test_size=val_frac / (train_frac + val_frac), stratify=rest[label_col], random_state=seed
    )
    return train.reset_index(drop=True), val.reset_index(drop=True), test.reset_index(drop=True)


def leaked(train_texts, test_texts, near_threshold: float | None = 0.8, **minhash) -> np.ndarray:
    """Boolean mask over `test_texts`: exact or near duplicates of some training text."""
    train_texts, test_texts = list(train_texts), list(test_texts)
    train_keys = {dedup_key(t) for t in train_texts}
    mask = np.array([dedup_key(t) in train_keys for t in test_texts], dtype=bool)
    if near_threshold is not None and train_texts and test_texts:
        n_train = len(train_texts)
        keys = [dedup_key(t) for t in train_texts + test_texts]
        for i, j, _ in near_duplicate_pairs(keys, near_threshold, **minhash):
            if i < n_train <= j:
                mask[j - n_train] = True
    return mask

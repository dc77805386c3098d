"""Byte-level BPE from scratch, trained and applied the way GPT-2 and Hugging Face `tokenizers` do.

    tok = ByteBPETokenizer.train(text, vocab_size=1000)
    ids = tok.encode("Wherefore art thou?")      # list[int]
    tok.decode(ids) == "Wherefore art thou?"     # exact for every string: no unknown tokens

How it works:
  1. Pre-tokenise with GPT-2's regex (words with their leading space, numbers, punctuation runs,
     whitespace), so merges never cross a word boundary.
  2. Each piece becomes its UTF-8 bytes. The 256 byte values are the base vocabulary, so any
     text in any script can be encoded: there is no unknown token.
  3. Training (`learn_merges`) repeatedly merges the most frequent adjacent pair of tokens into a
     new token. Pair counts (`count_pairs`) are kept up to date incrementally (`merge_pair` touches
     only the words that contain the merged pair), and a heap with lazy deletion finds the most
     frequent pair. `learn_merges` and its helpers are written out in chapter 04.
  4. Encoding applies the learned merges to each piece in the order they were learned.

Ids follow GPT-2's byte order (the 188 printable bytes first, then the others), ties between
equally frequent pairs are broken by the smaller pair of ids, and a merge whose result already
exists reuses its id: the same rules as `tokenizers`' BpeTrainer, so training on the same text
with the same pre-tokenisation learns the same merges (checked in tests/test_tokenizers.py).
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import cache
from pathlib import Path

try:
    import regex as _re

    GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
except ImportError:  # `regex` comes with transformers; without it, approximate \p{L} and \p{N}
    import re as _re

    GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""


@cache
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's map from each byte to a printable character (so tokens can be shown and stored as text)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


@cache
def byte_order() -> tuple[int, ...]:
    """The byte held by each base id 0..255 (GPT-2's order: sorted by the printable character)."""
    mapping = bytes_to_unicode()
    return tuple(sorted(range(256), key=lambda b: mapping[b]))


def pretokenize(text: str, pattern: str | None = GPT2_PATTERN) -> list[str]:
    """Split `text` into the pieces BPE works within (the whole text if `pattern` is None)."""
    if pattern is None:
        return [text] if text else []
    return _re.findall(pattern, text)


def replace_pair(symbols: list[int], a: int, b: int, new: int) -> list[int]:
    """Replace every non-overlapping (a, b) in `symbols`, left to right, by `new`."""
    out = []
    i, n = 0, len(symbols)
    while i < n:
        if i < n - 1 and symbols[i] == a and symbols[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def count_pairs(words: list[list[int]], counts: list[int]) -> tuple[dict, dict]:
    """How often each adjacent pair occurs (a word counts as often as it occurs), and which words hold it."""
    pair_counts: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> indices of words that (may) hold it
    for wi, (symbols, count) in enumerate(zip(words, counts, strict=True)):
        for pair in zip(symbols, symbols[1:], strict=False):
            pair_counts[pair] += count
            where[pair].add(wi)
    return pair_counts, where


def merge_pair(pair: tuple[int, int], new: int, words: list[list[int]], counts: list[int],
               pair_counts: dict, where: dict) -> list[tuple[int, int]]:
    """Replace `pair` by token `new` in every word that holds it, updating `pair_counts` and `where`.

    Only the words that hold the pair are touched, which is what makes training fast. Returns the
    pairs whose count went up (the ones the merge created).
    """
    change: dict[tuple[int, int], int] = defaultdict(int)
    for wi in where.pop(pair):
        symbols, count = words[wi], counts[wi]
        merged = replace_pair(symbols, *pair, new)
        if len(merged) == len(symbols):
            continue  # stale entry: an earlier merge took the pair out of this word
        for old in zip(symbols, symbols[1:], strict=False):
            change[old] -= count
        for created in zip(merged, merged[1:], strict=False):
            change[created] += count
            where[created].add(wi)
        words[wi] = merged
    for changed, amount in change.items():
        pair_counts[changed] += amount
    pair_counts.pop(pair, None)
    return [changed for changed, amount in change.items() if amount > 0]


def learn_merges(text: str, vocab_size: int, pattern: str | None = GPT2_PATTERN, min_frequency: int = 1,
                 on_merge: Callable[[tuple[int, int], int, bytes], None] | None = None) -> list[tuple[int, int]]:
    """Byte-level BPE training: merge the most frequent adjacent pair of tokens, again and again.

    Stops when the vocabulary holds `vocab_size` tokens or no pair occurs `min_frequency` times.
    `on_merge(pair, count, new_token)` is called after each merge (to print it, or show progress).
    """
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (the byte alphabet), got {vocab_size}.")
    vocab = [bytes([b]) for b in byte_order()]  # id -> bytes; the 256 bytes come first
    token_id = {token: i for i, token in enumerate(vocab)}
    word_counts = Counter(pretokenize(text, pattern))  # each distinct piece once, with its count
    words = [[token_id[bytes([b])] for b in word.encode("utf-8")] for word in word_counts]
    counts = list(word_counts.values())
    pair_counts, where = count_pairs(words, counts)
    heap = [(-count, a, b) for (a, b), count in pair_counts.items()]  # most frequent first; ties: smaller pair
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while len(vocab) < vocab_size and heap:
        negative_count, a, b = heapq.heappop(heap)
        count = pair_counts.get((a, b), 0)
        if count != -negative_count:  # an outdated entry: put it back with its current count
            if count > 0:
                heapq.heappush(heap, (-count, a, b))
            continue
        if count < max(min_frequency, 1):
            break
        token = vocab[a] + vocab[b]
        if token not in token_id:  # two different pairs can spell the same bytes: they share one id
            token_id[token] = len(vocab)
            vocab.append(token)
        merges.append((a, b))
        for created in merge_pair((a, b), token_id[token], words, counts, pair_counts, where):
            heapq.heappush(heap, (-pair_counts[created], *created))
        if on_merge is not None:
            on_merge((a, b), count, token)
    return merges


class ByteBPETokenizer:
    """A byte-level BPE tokenizer: 256 byte tokens plus one token per learned merge."""

    def __init__(self, merges: list[tuple[int, int]], pattern: str | None = GPT2_PATTERN):
        self.pattern = pattern
        self._regex = _re.compile(pattern) if pattern is not None else None
        self.vocab: list[bytes] = [bytes([b]) for b in byte_order()]  # id -> bytes
        self._byte_id = {b: i for i, b in enumerate(byte_order())}  # byte value -> base id
        token_id = {tok: i for i, tok in enumerate(self.vocab)}
        self.merges: list[tuple[int, int]] = []
        self.ranks: dict[tuple[int, int], int] = {}
        self.merge_to: dict[tuple[int, int], int] = {}
        for a, b in merges:
            a, b = int(a), int(b)
            if a >= len(self.vocab) or b >= len(self.vocab):
                raise ValueError(f"Merge ({a}, {b}) refers to a token that no earlier merge created.")
            token = self.vocab[a] + self.vocab[b]
            if token not in token_id:
                token_id[token] = len(self.vocab)
                self.vocab.append(token)
            self.ranks[(a, b)] = len(self.merges)
            self.merge_to[(a, b)] = token_id[token]
            self.merges.append((a, b))
        self._cache: dict[str, list[int]] = {}

    # ---------------------------------------------------------------- training
    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        pattern: str | None = GPT2_PATTERN,
        min_frequency: int = 1,
        progress: bool = False,
    ) -> ByteBPETokenizer:
        """Learn merges on `text` (`learn_merges`) until the vocabulary has `vocab_size` tokens (≥ 256).

        Stops early when no pair occurs at least `min_frequency` times.
        """
        from tqdm.auto import tqdm

        with tqdm(total=max(vocab_size - 256, 0), desc="BPE merges", disable=not progress) as bar:
            merges = learn_merges(text, vocab_size, pattern, min_frequency, on_merge=lambda *_: bar.update(1))
        return cls(merges, pattern=pattern)

    # ---------------------------------------------------------------- encoding
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _encode_piece(self, piece: str) -> list[int]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        symbols = [self._byte_id[b] for b in piece.encode("utf-8")]
        ranks = self.ranks
        while len(symbols) > 1:
            best = min(zip(symbols, symbols[1:], strict=False), key=lambda p: ranks.get(p, 1 << 62))
            if best not in ranks:
                break
            symbols = replace_pair(symbols, best[0], best[1], self.merge_to[best])
        if len(self._cache) < 500_000:
            self._cache[piece] = symbols
        return symbols

    def encode(self, text: str) -> list[int]:
        pieces = self._regex.findall(text) if self._regex is not None else ([text] if text else [])
        ids: list[int] = []
        for piece in pieces:
            ids.extend(self._encode_piece(piece))
        return ids

    def decode_bytes(self, ids: list[int]) -> bytes:
        return b"".join(self.vocab[i] for i in ids)

    def decode(self, ids: list[int]) -> str:
        """Text of `ids`; a cut through a multi-byte character shows as U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: list[int] | None = None) -> list[str]:
        """Tokens as GPT-2-style printable strings ('Ġthe' for ' the'), all of them by default."""
        mapping = bytes_to_unicode()
        chosen = range(len(self.vocab)) if ids is None else ids
        return ["".join(mapping[b] for b in self.vocab[i]) for i in chosen]

    # ---------------------------------------------------------------- saving
    def save(self, path: Path | str) -> None:
        """JSON with the merges (what loading reads) and the vocabulary as printable strings."""
        data = {
            "type": "byte_bpe",
            "pattern": self.pattern,
            "merges": [list(m) for m in self.merges],
            "vocab": self.token_strings(),
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> ByteBPETokenizer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("type") != "byte_bpe":
            raise ValueError(f"{path} is not a ByteBPETokenizer file (type={data.get('type')!r}).")
        return cls([tuple(m) for m in data["merges"]], pattern=data["pattern"])


# -------------------------------------------------------------------- the reference library
def train_hf_byte_bpe(text: str, vocab_size: int, progress: bool = False):
    """The same tokenizer trained by Hugging Face `tokenizers`: ByteLevel BPE, GPT-2 regex,
    no prefix space, the full 256-byte alphabet, no special tokens. Returns a `tokenizers.Tokenizer`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=0,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=progress,
    )
    tokenizer.train_from_iterator([text], trainer=trainer)
    return tokenizer


def hf_merges(tokenizer) -> list[tuple[str, str]]:
    """The merges of a trained `tokenizers` BPE model as pairs of printable token strings."""
    model = json.loads(tokenizer.to_str())["model"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]


def our_merges(tokenizer: ByteBPETokenizer) -> list[tuple[str, str]]:
    """Our merges in the same printable form as `hf_merges`."""
    strings = tokenizer.token_strings()
    return [(strings[a], strings[b]) for a, b in tokenizer.merges]


class HFTokenizerAdapter:
    """Wrap a `tokenizers.Tokenizer` in the course interface (encode/decode/vocab_size)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

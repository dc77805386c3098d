"""Word-level tokenizer: words and punctuation marks, a frequency cut-off and an unknown token."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

WORD_PATTERN = re.compile(r"\w+|[^\w\s]")
UNK = "<unk>"


class WordTokenizer:
    """Splits on `\\w+|[^\\w\\s]` (runs of word characters, single punctuation marks).

    Words seen fewer than `min_freq` times in training map to `<unk>` (id 0). Decoding joins
    tokens with spaces, so it is lossy: spacing and newlines are not kept. A run of Chinese
    characters has no spaces, so it counts as one "word": word tokenisation needs a word
    segmenter for Chinese.
    """

    def __init__(self, vocab: list[str], lower: bool = False):
        if not vocab or vocab[0] != UNK:
            raise ValueError(f"The vocabulary must start with {UNK!r}.")
        self.itos = list(vocab)
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.lower = lower
        self.unk_id = 0

    @classmethod
    def train(cls, text: str, min_freq: int = 1, max_vocab: int | None = None, lower: bool = False) -> WordTokenizer:
        """Keep words that occur at least `min_freq` times (the `max_vocab - 1` most frequent)."""
        counts = Counter(cls.split(text, lower))
        kept = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
        if max_vocab is not None:
            kept = kept[: max_vocab - 1]
        return cls([UNK, *kept], lower=lower)

    @staticmethod
    def split(text: str, lower: bool = False) -> list[str]:
        return WORD_PATTERN.findall(text.lower() if lower else text)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(w, self.unk_id) for w in self.split(text, self.lower)]

    def decode(self, ids: list[int]) -> str:
        text = " ".join(self.itos[i] for i in ids)
        return re.sub(r" ([^\w\s])", r"\1", text)  # no space before punctuation

    def count_unknown(self, text: str) -> int:
        """How many words of `text` map to `<unk>`."""
        return sum(i == self.unk_id for i in self.encode(text))

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps({"type": "word", "vocab": self.itos, "lower": self.lower}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path | str) -> WordTokenizer:
        data = json.loads(Path(path).read_text())
        return cls(data["vocab"], lower=data["lower"])

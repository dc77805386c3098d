"""Character-level tokenizer: one id per distinct character (nanoGPT's Shakespeare tokenizer)."""

from __future__ import annotations

import json
from pathlib import Path


class CharTokenizer:
    """Maps each character seen in training to an id (sorted by code point).

    Characters never seen raise a `KeyError`, unless `unk` is given: then they map to one extra
    id at the end of the vocabulary, which decodes to `unk` (information is lost).
    """

    def __init__(self, chars: list[str], unk: str | None = None):
        if len(set(chars)) != len(chars):
            raise ValueError("CharTokenizer needs distinct characters.")
        self.chars = list(chars)
        self.unk = unk
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.unk_id = len(self.chars) if unk is not None else None

    @classmethod
    def train(cls, text: str, unk: str | None = None) -> CharTokenizer:
        """The vocabulary is every distinct character of `text`, sorted."""
        return cls(sorted(set(text)), unk=unk)

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + (1 if self.unk is not None else 0)

    def encode(self, text: str) -> list[int]:
        if self.unk_id is None:
            try:
                return [self.stoi[ch] for ch in text]
            except KeyError as exc:
                raise KeyError(
                    f"Character {exc.args[0]!r} is not in the vocabulary of {len(self.chars)} characters; "
                    "train on text that contains it or pass unk='\\ufffd'."
                ) from None
        return [self.stoi.get(ch, self.unk_id) for ch in text]

    def decode(self, ids: list[int]) -> str:
        """The text of `ids`; an id outside 0..vocab_size-1 is a ValueError (Python would wrap a negative one)."""
        outside = [i for i in ids if not 0 <= i < self.vocab_size]
        if outside:
            raise ValueError(
                f"Token id {outside[0]} is outside the vocabulary (ids 0..{self.vocab_size - 1}): "
                "decode ids this tokenizer produced, or the model's vocab_size does not match it."
            )
        return "".join(self.unk if i == self.unk_id else self.chars[i] for i in ids)

    def count_unknown(self, text: str) -> int:
        """How many characters of `text` are not in the vocabulary."""
        return sum(ch not in self.stoi for ch in text)

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps({"type": "char", "chars": self.chars, "unk": self.unk}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path | str) -> CharTokenizer:
        data = json.loads(Path(path).read_text())
        return cls(data["chars"], unk=data["unk"])

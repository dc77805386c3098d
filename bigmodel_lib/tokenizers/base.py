"""What every course tokenizer offers, and helpers to compare tokenizers on the same text.

tok.encode("To be, or not to be")  -> list[int]
tok.decode(ids)                     -> str
tok.vocab_size                      -> int
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Tokenizer(Protocol):
    """The common interface of `CharTokenizer`, `WordTokenizer` and `ByteBPETokenizer`."""

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


def bytes_per_token(tokenizer: Tokenizer, text: str) -> float:
    """Compression ratio: UTF-8 bytes of `text` per token (higher = fewer, longer tokens)."""
    ids = tokenizer.encode(text)
    if not ids:
        raise ValueError("The tokenizer produced no tokens: pass a non-empty text.")
    return len(text.encode("utf-8")) / len(ids)


def round_trips(tokenizer: Tokenizer, text: str) -> bool:
    """Whether decode(encode(text)) gives back exactly `text`."""
    return tokenizer.decode(tokenizer.encode(text)) == text

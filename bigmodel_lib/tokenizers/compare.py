"""Compare tokenizers on the same text: round trip, compression, unknowns, vocabulary overlap, speed."""

from __future__ import annotations

import time

from .base import Tokenizer, bytes_per_token
from .bpe import ByteBPETokenizer, bytes_to_unicode, pretokenize


def compare_tokenizers(tokenizers: dict[str, Tokenizer], text: str):
    """One row per tokenizer: vocab size, tokens, bytes per token, exact round trip, unknown tokens."""
    import pandas as pd

    rows = []
    for name, tok in tokenizers.items():
        ids = tok.encode(text)
        unk_id = getattr(tok, "unk_id", None)
        rows.append(
            {
                "tokenizer": name,
                "vocab_size": tok.vocab_size,
                "tokens": len(ids),
                "bytes_per_token": bytes_per_token(tok, text) if ids else float("nan"),
                "round_trip_exact": tok.decode(ids) == text,
                "unknown_tokens": sum(i == unk_id for i in ids) if unk_id is not None else 0,
            }
        )
    return pd.DataFrame(rows).set_index("tokenizer")


def vocab_overlap(ours: ByteBPETokenizer, hf_tokenizer) -> dict[str, float]:
    """How many of our tokens (as GPT-2 printable strings) are in the `tokenizers` vocabulary."""
    mine = set(ours.token_strings())
    theirs = set(hf_tokenizer.get_vocab())
    return {
        "ours": len(mine),
        "theirs": len(theirs),
        "shared": len(mine & theirs),
        "jaccard": len(mine & theirs) / len(mine | theirs),
    }


def _best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def encode_speed(ours: ByteBPETokenizer, hf_tokenizer, text: str, repeats: int = 3):
    """Encode throughput (MB/s, best of `repeats`) of our BPE and of `tokenizers`, as a table.

    Rows: ours with an empty word cache each time ("cold") and with the cache left warm;
    `tokenizers` encoding the whole text as one string, and its line-by-line `encode_batch`
    (Rust, threads); then the pre-tokenisation step alone in each (GPT-2's regex), which is
    where much of the time goes. Timings depend on the machine and its load.
    """
    import pandas as pd

    lines = text.splitlines(keepends=True)

    def ours_cold():
        ours._cache.clear()
        ours.encode(text)

    cases = {
        "ours, cold cache (Python)": ours_cold,
        "ours, warm cache (Python)": lambda: ours.encode(text),
        "tokenizers encode (Rust)": lambda: hf_tokenizer.encode(text),
        "tokenizers encode_batch of lines": lambda: hf_tokenizer.encode_batch(lines),
        "pre-tokenise only: Python regex": lambda: pretokenize(text, ours.pattern),
        "pre-tokenise only: tokenizers ByteLevel": lambda: hf_tokenizer.pre_tokenizer.pre_tokenize_str(text),
    }
    n_bytes = len(text.encode("utf-8"))
    rows = []
    for name, fn in cases.items():
        seconds = _best_time(fn, repeats)
        rows.append({"encoder": name, "seconds": seconds, "MB_per_s": n_bytes / seconds / 1e6})
    return pd.DataFrame(rows).set_index("encoder")


def printable(token: bytes) -> str:
    """A token's bytes as GPT-2's printable string (space → Ġ, newline → Ċ)."""
    mapping = bytes_to_unicode()
    return "".join(mapping[b] for b in token)

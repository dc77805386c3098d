"""Encode throughput of our byte-level BPE vs Hugging Face `tokenizers` on Tiny Shakespeare.

    python benchmarks/tokenizer_speed.py [--vocab-size 1000] [--train-chars 300000] [--repeats 3]

Both tokenizers are trained on the same text with the same settings (they learn the same
merges); each then encodes the whole of Tiny Shakespeare. Prints a table and the speed ratio.
Timings depend on the machine and its load: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import time

from bigmodel_lib.data import load_tiny_shakespeare
from bigmodel_lib.tokenizers.bpe import ByteBPETokenizer, hf_merges, our_merges, train_hf_byte_bpe
from bigmodel_lib.tokenizers.compare import encode_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=1000)
    parser.add_argument("--train-chars", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    text = load_tiny_shakespeare()
    train_text = text[: args.train_chars]
    start = time.perf_counter()
    ours = ByteBPETokenizer.train(train_text, args.vocab_size)
    ours_train = time.perf_counter() - start
    start = time.perf_counter()
    hf = train_hf_byte_bpe(train_text, args.vocab_size)
    hf_train = time.perf_counter() - start
    ids = ours.encode(text)
    print(
        f"Tiny Shakespeare: {len(text.encode()):,} bytes -> {len(ids):,} tokens "
        f"(vocab {args.vocab_size}, trained on {len(train_text):,} chars)"
    )
    print(f"same merges: {our_merges(ours) == hf_merges(hf)}; same ids: {ids == hf.encode(text).ids}")
    print(f"training: ours {ours_train:.2f} s, tokenizers {hf_train:.2f} s")
    table = encode_speed(ours, hf, text, repeats=args.repeats)
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    hf_best = table.loc[["tokenizers encode (Rust)", "tokenizers encode_batch of lines"], "seconds"].min()
    ratio = table.loc["ours, cold cache (Python)", "seconds"] / hf_best
    print(f"encode time ratio, ours (cold cache) / tokenizers (its faster mode): {ratio:.2f}  (> 1: ours is slower)")


if __name__ == "__main__":
    main()

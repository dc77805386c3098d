"""Course tokenizers: round trips, and byte-level BPE against Hugging Face `tokenizers`.

What is asserted against `tokenizers` (ByteLevel pre-tokenizer with GPT-2's regex, no prefix
space, the 256-byte initial alphabet, no special tokens, same vocab_size, same text):
  1. the learned merges are identical, in order;
  2. the vocabularies are identical, token string -> id;
  3. encodings of held-out text (English, Chinese, emoji) are identical id for id.
"""

from collections import Counter

import pytest

from bigmodel_lib.data import load_tiny_shakespeare
from bigmodel_lib.tokenizers.base import Tokenizer, bytes_per_token, round_trips
from bigmodel_lib.tokenizers.bpe import (
    ByteBPETokenizer,
    HFTokenizerAdapter,
    byte_order,
    bytes_to_unicode,
    count_pairs,
    hf_merges,
    learn_merges,
    merge_pair,
    our_merges,
    pretokenize,
    train_hf_byte_bpe,
)
from bigmodel_lib.tokenizers.char import CharTokenizer
from bigmodel_lib.tokenizers.word import WordTokenizer

MIXED = "大模型开发与微调：从零开始 — emoji 👩🏽‍💻🚀, accents café, tabs\tand\nnewlines  "


@pytest.fixture(scope="module")
def shakespeare():
    return load_tiny_shakespeare()


@pytest.fixture(scope="module")
def trained(shakespeare):
    text = shakespeare[:100_000]
    return ByteBPETokenizer.train(text, 400), train_hf_byte_bpe(text, 400)


def test_char_tokenizer_round_trip_unknown_and_save(tmp_path, shakespeare):
    tok = CharTokenizer.train(shakespeare)
    assert tok.vocab_size == 65  # nanoGPT's Shakespeare vocabulary
    assert isinstance(tok, Tokenizer)
    sample = shakespeare[:2000]
    assert tok.decode(tok.encode(sample)) == sample
    with pytest.raises(KeyError, match="not in the vocabulary"):
        tok.encode("大")
    with_unk = CharTokenizer.train(shakespeare, unk="\ufffd")
    assert with_unk.vocab_size == 66
    assert with_unk.encode("a大") == [with_unk.stoi["a"], 65]
    assert with_unk.decode(with_unk.encode("a大")) == "a\ufffd"
    assert with_unk.count_unknown("大模型 ok") == 3
    tok.save(tmp_path / "c.json")
    assert CharTokenizer.load(tmp_path / "c.json").encode(sample) == tok.encode(sample)


def test_char_tokenizer_rejects_ids_outside_the_vocabulary():
    tok = CharTokenizer.train("abc")
    assert tok.decode([0, 2]) == "ac"
    for bad in (-1, 3):
        with pytest.raises(ValueError, match=f"Token id {bad} is outside the vocabulary \\(ids 0..2\\)"):
            tok.decode([0, bad])
    with_unk = CharTokenizer.train("abc", unk="?")
    assert with_unk.decode([3]) == "?"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        with_unk.decode([4])


def test_word_tokenizer_min_freq_unknown_and_save(tmp_path):
    text = "the cat sat. the dog sat! the end"
    tok = WordTokenizer.train(text, min_freq=2)
    assert tok.itos == ["<unk>", "the", "sat"]
    assert tok.encode("the bird sat.") == [1, 0, 2, 0]
    assert tok.count_unknown("the bird sat.") == 2
    full = WordTokenizer.train(text)
    assert full.decode(full.encode("the cat sat. the end")) == "the cat sat. the end"
    assert full.decode(full.encode("the  cat\nsat")) == "the cat sat"  # spacing is lost
    assert WordTokenizer.split("大模型开发 ok") == ["大模型开发", "ok"]  # no spaces: one "word"
    capped = WordTokenizer.train(text, max_vocab=3)
    assert capped.vocab_size == 3
    full.save(tmp_path / "w.json")
    assert WordTokenizer.load(tmp_path / "w.json").itos == full.itos


def test_byte_order_matches_gpt2():
    mapping = bytes_to_unicode()
    assert len(set(mapping.values())) == 256
    assert mapping[ord("A")] == "A" and mapping[ord(" ")] == "Ġ" and mapping[ord("\n")] == "Ċ"
    order = byte_order()
    assert order[0] == ord("!") and sorted(order) == list(range(256))


def test_bpe_round_trip_any_text(trained, shakespeare):
    ours, _ = trained
    for text in [shakespeare[-5000:], MIXED, "", " ", "\x00\xff", "ﬁ Ω 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]:
        assert ours.decode(ours.encode(text)) == text
    assert len(ours.encode("大")) >= 1 and all(i < 256 for i in ours.encode("大"))  # bytes, no unknown


def test_bpe_merges_and_vocab_identical_to_tokenizers(trained):
    ours, hf = trained
    assert ours.vocab_size == hf.get_vocab_size() == 400
    assert our_merges(ours) == hf_merges(hf)
    assert {s: i for i, s in enumerate(ours.token_strings())} == hf.get_vocab()


def test_bpe_encodings_identical_to_tokenizers(trained, shakespeare):
    ours, hf = trained
    for text in [shakespeare[-20_000:], MIXED, "Wherefore art thou Romeo? 1234 don't"]:
        assert ours.encode(text) == hf.encode(text).ids
    adapter = HFTokenizerAdapter(hf)
    assert adapter.decode(adapter.encode(MIXED)) == MIXED
    assert bytes_per_token(ours, shakespeare[-20_000:]) == pytest.approx(
        bytes_per_token(adapter, shakespeare[-20_000:])
    )
    assert bytes_per_token(ours, shakespeare[-20_000:]) > 1.4  # bytes alone would give 1.0


def naive_bpe_merges(text: str, n_merges: int) -> list[tuple[int, int]]:
    """Recount every pair after every merge (slow, obviously right) with the same tie-break."""
    byte_id = {b: i for i, b in enumerate(byte_order())}
    words = Counter(pretokenize(text))
    seqs = {w: [byte_id[b] for b in w.encode()] for w in words}
    vocab = [bytes([b]) for b in byte_order()]
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, seq in seqs.items():
            for p in zip(seq, seq[1:], strict=False):
                pairs[p] += words[w]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        token = vocab[best[0]] + vocab[best[1]]
        new = vocab.index(token) if token in vocab else len(vocab)
        if new == len(vocab):
            vocab.append(token)
        merges.append(best)
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and (seq[i], seq[i + 1]) == best:
                    out.append(new)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = out
    return merges


def test_incremental_counts_match_naive_recount(shakespeare):
    text = shakespeare[:8000] + " aaaa aaaaa abab ababab"  # overlapping pairs too
    fast = ByteBPETokenizer.train(text, 256 + 60)
    assert fast.merges == naive_bpe_merges(text, len(fast.merges))


def test_count_and_merge_pair_by_hand():
    """The pieces of the trainer on a toy corpus small enough to count on paper."""
    words, counts = [[1, 2, 3], [1, 2], [2, 2, 2]], [2, 1, 1]
    pair_counts, where = count_pairs(words, counts)
    assert dict(pair_counts) == {(1, 2): 3, (2, 3): 2, (2, 2): 2}  # overlapping (2, 2) counts twice
    assert where[(1, 2)] == {0, 1}
    created = merge_pair((1, 2), 9, words, counts, pair_counts, where)
    assert words == [[9, 3], [9], [2, 2, 2]]
    assert dict(pair_counts) == {(2, 3): 0, (2, 2): 2, (9, 3): 2} and created == [(9, 3)]
    assert (1, 2) not in where and where[(9, 3)] == {0}


def test_learn_merges_reports_each_merge_with_the_count_a_recount_gives():
    text = "low lower lowest newer newest wider new new"
    seen = []
    merges = learn_merges(text, 256 + 10, on_merge=lambda pair, count, token: seen.append((pair, count, token)))
    assert [pair for pair, _, _ in seen] == merges == naive_bpe_merges(text, len(merges))
    words = Counter(pretokenize(text))
    vocab = {i: bytes([b]) for i, b in enumerate(byte_order())}
    for pair, count, token in seen:  # the count is how often the token's bytes stand as one pair
        assert count == sum(n * w.encode().count(token) for w, n in words.items()) > 0
        vocab[len(vocab)] = vocab[pair[0]] + vocab[pair[1]]
        assert token == vocab[pair[0]] + vocab[pair[1]]
    assert ByteBPETokenizer.train(text, 256 + 10).merges == merges


def test_bpe_save_load_pattern_none_and_errors(tmp_path, trained, shakespeare):
    ours, _ = trained
    ours.save(tmp_path / "bpe.json")
    loaded = ByteBPETokenizer.load(tmp_path / "bpe.json")
    assert loaded.merges == ours.merges and loaded.encode(MIXED) == ours.encode(MIXED)
    whole = ByteBPETokenizer.train("abcabcabc abc", 260, pattern=None)
    assert round_trips(whole, "abcabc abc") and len(whole.encode("abcabc")) < 6
    assert round_trips(whole, "")
    with pytest.raises(ValueError, match="at least 256"):
        ByteBPETokenizer.train("abc", 100)
    (tmp_path / "bad.json").write_text('{"type": "char"}')
    with pytest.raises(ValueError, match="not a ByteBPETokenizer"):
        ByteBPETokenizer.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="no earlier merge"):
        ByteBPETokenizer([(0, 300)])
    stopped = ByteBPETokenizer.train("ab ab ab cd", 1000, min_frequency=2)
    assert stopped.vocab_size < 1000  # no pair left that occurs twice


def test_compare_helpers(trained, shakespeare):
    from bigmodel_lib.tokenizers.compare import compare_tokenizers, encode_speed, printable, vocab_overlap

    ours, hf = trained
    text = shakespeare[-3000:]
    table = compare_tokenizers(
        {"char": CharTokenizer.train(shakespeare, unk="?"), "bpe": ours, "hf": HFTokenizerAdapter(hf)}, text + "大"
    )
    assert table.loc["char", "unknown_tokens"] == 1 and not table.loc["char", "round_trip_exact"]
    assert table.loc["bpe", "round_trip_exact"] and table.loc["hf", "round_trip_exact"]
    assert table.loc["bpe", "tokens"] == table.loc["hf", "tokens"] < table.loc["char", "tokens"]
    overlap = vocab_overlap(ours, hf)
    assert overlap["shared"] == overlap["ours"] == 400 and overlap["jaccard"] == 1.0
    speed = encode_speed(ours, hf, text, repeats=1)
    assert len(speed) == 6 and (speed["MB_per_s"] > 0).all()
    assert printable(b" the\n") == "ĠtheĊ"

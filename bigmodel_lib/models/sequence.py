"""Sequence classifiers for short texts: a bag of embeddings, and RNN / LSTM / GRU readers.

Texts become padded id tensors with a minimal word vocabulary (`SimpleVocab`; the course's
full word tokenizer lives in `bigmodel_lib.tokenizers.word`). Sequences are padded at the
front ("pre"), so the last time step is always the last real word: the recurrent models read
it from their final hidden state, in PyTorch and in Keras alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import torch
from torch import nn

WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
PAD, UNK = "<pad>", "<unk>"


class SimpleVocab:
    """Lower-cased words and punctuation; id 0 = padding, 1 = unknown word."""

    def __init__(self, words: list[str]) -> None:
        self.itos = [PAD, UNK, *words]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @staticmethod
    def split(text: str) -> list[str]:
        return WORD.findall(text.lower())

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 2) -> SimpleVocab:
        counts = Counter(w for t in texts for w in cls.split(t))
        return cls(sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w)))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(w, 1) for w in self.split(text)]


def pad_sequences(sequences: list[list[int]], max_len: int, pad_id: int = 0) -> torch.Tensor:
    """(N, max_len) long tensor: keep the last `max_len` ids, pad at the front."""
    out = torch.full((len(sequences), max_len), pad_id, dtype=torch.long)
    for i, seq in enumerate(sequences):
        seq = seq[-max_len:]
        if seq:
            out[i, max_len - len(seq):] = torch.tensor(seq)
    return out


class BagOfEmbeddings(nn.Module):
    """Mean of the word embeddings (padding excluded) -> Linear -> ReLU -> Linear. Ignores order."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden: int = 64, n_classes: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.head = nn.Sequential(nn.Linear(embed_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, n_classes)
        mask = (ids != 0).unsqueeze(-1).float()  # (B, T, 1)
        e = self.embedding(ids) * mask  # (B, T, E)
        mean = e.sum(1) / mask.sum(1).clamp(min=1.0)  # (B, E)
        return self.head(mean)


RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentClassifier(nn.Module):
    """Embedding -> RNN / LSTM / GRU -> final hidden state -> Linear.

    PyTorch's RNN and LSTM carry two bias vectors (b_ih and b_hh) where one would do: they are
    only ever added together. With `single_bias=True` (the default) b_hh is fixed at zero and
    not trained, which is exactly Keras's SimpleRNN / LSTM. The GRU's second bias sits inside
    the reset gate and is not redundant; Keras's GRU (reset_after=True) has it too.
    """

    def __init__(
        self, kind: str, vocab_size: int, embed_dim: int = 32, hidden: int = 64, n_classes: int = 2,
        single_bias: bool = True,
    ) -> None:
        super().__init__()
        if kind not in RECURRENT:
            raise ValueError(f"kind must be one of {sorted(RECURRENT)}, got {kind!r}")
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = RECURRENT[kind](embed_dim, hidden, batch_first=True)
        if single_bias and kind != "gru":
            with torch.no_grad():
                self.rnn.bias_hh_l0.zero_()
            self.rnn.bias_hh_l0.requires_grad_(False)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, n_classes)
        out, _ = self.rnn(self.embedding(ids))  # (B, T, H)
        return self.head(out[:, -1])  # last step: the last real word (pre-padding)


def sentiment_tensors(max_len: int = 32, min_freq: int = 2, test_fraction: float = 0.25, seed: int = 0):
    """The 3,000 labelled review sentences as padded ids, split stratified by label.

    Returns (x_train, y_train, x_test, y_test, vocab); the vocabulary comes from training texts only.
    """
    from sklearn.model_selection import train_test_split

    from ..data import load_sentiment_sentences

    frame = load_sentiment_sentences()
    tr, te = train_test_split(frame, test_size=test_fraction, random_state=seed, stratify=frame["label"])
    vocab = SimpleVocab.build(tr["text"], min_freq=min_freq)
    encode = lambda texts: pad_sequences([vocab.encode(t) for t in texts], max_len)  # noqa: E731
    return (encode(tr["text"]), torch.tensor(tr["label"].to_numpy()),
            encode(te["text"]), torch.tensor(te["label"].to_numpy()), vocab)

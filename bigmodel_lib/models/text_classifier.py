"""A bag-of-embeddings text classifier in PyTorch, and a vectoriser that mirrors Keras.

`TextVectorizer` reproduces `keras.layers.TextVectorization` with its defaults
(`standardize="lower_and_strip_punctuation"`, `split="whitespace"`, `output_mode="int"`):

1. lowercase ASCII letters (TensorFlow's `tf.strings.lower` leaves `É` alone),
2. delete the 32 ASCII punctuation characters,
3. split on runs of ASCII whitespace (not on `\\x85` or `\\xa0`, which `str.split()` would use),
4. look words up in a vocabulary built by frequency (ties broken by the word's bytes, in
   descending order, as Keras does), index 0 = padding `""`, index 1 = `"[UNK]"`,
5. pad with 0 or truncate to `sequence_length`.

`TextClassifier` is the model of `bigmodel_lib.keras_models.text_classifier`:
token ids → `nn.Embedding` → mean over the real (non-padding) tokens → optional
`Linear + ReLU` hidden layer → `Linear` head giving logits. Its parameters are named and
initialised like the Keras layers, and `load_keras_weights` copies a trained Keras model in.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from ..sizing import count_parameters  # noqa: F401  (its one home is sizing; chapter 06 imports it from here too)

PAD_TOKEN = ""
OOV_TOKEN = "[UNK]"
PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")  # the same 32 characters as Keras
ASCII_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")  # what tf.strings.split splits on
ASCII_UPPER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def standardize(text: str) -> str:
    """Keras's `lower_and_strip_punctuation`: ASCII lowercase, then drop ASCII punctuation."""
    return PUNCTUATION.sub("", text.translate(ASCII_UPPER))


def split_whitespace(text: str) -> list[str]:
    """Keras's `split="whitespace"`: runs of ASCII whitespace separate words; no empty words."""
    return [word for word in ASCII_WHITESPACE.split(text) if word]


class TextVectorizer:
    """Text → padded token ids, the same ids as `keras.layers.TextVectorization` (int mode).

    >>> v = TextVectorizer(max_tokens=1000, sequence_length=8).adapt(sentences)
    >>> v(["What a great film!"])        # LongTensor of shape (1, 8)
    """

    def __init__(self, max_tokens: int | None = None, sequence_length: int | None = None):
        if max_tokens is not None and max_tokens < 3:
            raise ValueError(f"max_tokens={max_tokens} leaves no room for words: it counts '' and '[UNK]' too.")
        self.max_tokens = max_tokens
        self.sequence_length = sequence_length
        self.vocabulary: list[str] = [PAD_TOKEN, OOV_TOKEN]
        self.index: dict[str, int] = {}

    def tokens(self, text: str) -> list[str]:
        return split_whitespace(standardize(text))

    def adapt(self, texts: Iterable[str]) -> TextVectorizer:
        """Build the vocabulary: most frequent words first, ties by descending bytes (as Keras)."""
        counts = Counter(word for text in texts for word in self.tokens(text))
        counts.pop(PAD_TOKEN, None)
        counts.pop(OOV_TOKEN, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0].encode("utf-8")), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[: self.max_tokens - 2]
        self.vocabulary = [PAD_TOKEN, OOV_TOKEN] + [word for word, _ in ranked]
        self.index = {word: i for i, word in enumerate(self.vocabulary)}
        return self

    def get_vocabulary(self) -> list[str]:
        return list(self.vocabulary)

    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str) -> list[int]:
        """One text → its token ids (1 for words outside the vocabulary), not padded."""
        if not self.index:
            raise RuntimeError("TextVectorizer has no vocabulary yet: call .adapt(texts) first.")
        return [self.index.get(word, 1) for word in self.tokens(text)]

    def __call__(self, texts: Sequence[str] | str) -> torch.Tensor:
        """Texts → LongTensor (N, L): padded with 0 / truncated to `sequence_length`
        (or to the longest text when `sequence_length` is None)."""
        if isinstance(texts, str):
            texts = [texts]
        encoded = [self.encode(text) for text in texts]
        length = self.sequence_length or max((len(ids) for ids in encoded), default=0)
        ids = torch.zeros(len(encoded), length, dtype=torch.long)
        for row, tokens in enumerate(encoded):
            tokens = tokens[:length]
            ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return ids


class TextClassifier(nn.Module):
    """Token ids → logits: embedding, masked mean pooling, optional hidden layer, linear head.

    `num_outputs` is the number of logits: `num_classes` for a softmax head, 1 for a sigmoid head.
    """

    def __init__(self, vocab_size: int, num_outputs: int = 2, embedding_dim: int = 32, hidden_units: int | None = 128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=None)
        self.hidden = nn.Linear(embedding_dim, hidden_units) if hidden_units else None
        self.head = nn.Linear(hidden_units or embedding_dim, num_outputs)
        self.reset_parameters_like_keras()

    @torch.no_grad()
    def reset_parameters_like_keras(self) -> None:
        """Keras's defaults: embeddings uniform in ±0.05, Dense kernels Glorot-uniform, zero biases."""
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        for linear in (self.hidden, self.head):
            if linear is not None:
                nn.init.xavier_uniform_(linear.weight)
                nn.init.zeros_(linear.bias)

    def pool(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean of the embeddings of the real tokens (id != 0), like Keras's masked
        GlobalAveragePooling1D. An all-padding row gives zeros here (Keras gives NaN)."""
        vectors = self.embedding(ids)  # (B, L, D)
        mask = (ids != 0).unsqueeze(-1).to(vectors.dtype)  # (B, L, 1)
        return (vectors * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, D)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.pool(ids)  # (B, D)
        if self.hidden is not None:
            x = torch.relu(self.hidden(x))  # (B, H)
        return self.head(x)  # (B, num_outputs) logits


@torch.no_grad()
def load_keras_weights(model: TextClassifier, keras_model) -> TextClassifier:
    """Copy the weights of a `build_keras_text_classifier` model into `model` (Dense kernels transposed)."""
    model.embedding.weight.copy_(torch.as_tensor(keras_model.get_layer("embedding").get_weights()[0]))
    pairs = [("head", model.head)] + ([("hidden", model.hidden)] if model.hidden is not None else [])
    for name, linear in pairs:
        kernel, bias = keras_model.get_layer(name).get_weights()
        if tuple(linear.weight.shape) != kernel.T.shape:
            raise ValueError(f"Layer {name!r}: torch weight {tuple(linear.weight.shape)} vs Keras kernel {kernel.shape} transposed.")
        linear.weight.copy_(torch.as_tensor(kernel.T))
        linear.bias.copy_(torch.as_tensor(bias))
    return model

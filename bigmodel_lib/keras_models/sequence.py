"""Keras twins of `bigmodel_lib.models.sequence` (same layers, same parameter counts)."""

from __future__ import annotations


def keras_bag_of_embeddings(vocab_size: int, embed_dim: int = 32, hidden: int = 64, n_classes: int = 2, max_len: int = 32):
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(max_len,), dtype="int32"),
            keras.layers.Embedding(vocab_size, embed_dim, mask_zero=True),  # id 0 = padding
            keras.layers.GlobalAveragePooling1D(),  # mean over the unmasked words
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(n_classes),
        ],
        name="bag_of_embeddings",
    )


def keras_recurrent_classifier(
    kind: str, vocab_size: int, embed_dim: int = 32, hidden: int = 64, n_classes: int = 2, max_len: int = 32
):
    """Embedding -> SimpleRNN / LSTM / GRU (final state) -> Dense, on front-padded ids."""
    import keras

    layer = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind]
    return keras.Sequential(
        [
            keras.Input(shape=(max_len,), dtype="int32"),
            keras.layers.Embedding(vocab_size, embed_dim),
            layer(hidden),  # GRU: reset_after=True, two biases like PyTorch
            keras.layers.Dense(n_classes),
        ],
        name=kind,
    )

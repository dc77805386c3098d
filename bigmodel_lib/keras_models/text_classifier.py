"""The source's Keras text classifier, fixed: strings in, class probabilities out.

    raw strings (B,) → TextVectorization → ids (B, L) → Embedding(mask_zero) → (B, L, D)
      → GlobalAveragePooling1D (masked mean) → (B, D) → Dense(hidden, relu) → (B, H)
      → Dense(num_classes, softmax)  or  Dense(1, sigmoid) → probabilities

Layer names are fixed (`vectorize`, `embedding`, `pool`, `hidden`, `head`) so other chapters
can freeze, swap or read them: chapter 08 adapts the vocabulary on two review domains and
fine-tunes on the third.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The source article's listing as printed: the install line, the `tf.keras.layers` calls and the
# Chinese comments included, so `run_listing` reports each error at the article's own line number
# (the `pip install` line is shown, and commented out when run).
PRINTED_LISTING = """\
pip install tensorflow

import tensorflow as tf

# 定义输入层
input_layer = tf.keras.layers.Input(shape=(None,))

# 定义隐藏层
hidden_layer = tf.keras.layers.Dense(128, activation='relu')(input_layer)

# 定义输出层
output_layer = tf.keras.layers.Dense(10, activation='softmax')(hidden_layer)

# 构建模型
model = tf.keras.Model(inputs=input_layer, outputs=output_layer)

# 编译模型
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, epochs=10, batch_size=32)
"""

HEADS = ("softmax", "sigmoid")


def make_text_vectorizer(texts: Sequence[str], max_tokens: int | None = 10_000, sequence_length: int | None = 64):
    """A `TextVectorization` layer (lowercase, strip punctuation, whitespace split) adapted on `texts`."""
    import numpy as np
    from keras import layers

    vectorize = layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=sequence_length, name="vectorize")
    vectorize.adapt(np.asarray(list(texts), dtype=object))
    return vectorize


def build_keras_text_classifier(
    texts_or_vectorizer,
    num_classes: int = 2,
    *,
    head: str = "softmax",
    max_tokens: int | None = 10_000,
    sequence_length: int | None = 64,
    embedding_dim: int = 32,
    hidden_units: int | None = 128,
    learning_rate: float = 1e-3,
    compile: bool = True,
):
    """Build (and compile) the classifier; returns the `keras.Model` taking raw strings.

    `texts_or_vectorizer`: texts to adapt a new vocabulary on, or an adapted `TextVectorization`
    to share. `head="softmax"`: `num_classes` outputs with sparse categorical cross-entropy;
    `head="sigmoid"`: one output with binary cross-entropy (needs `num_classes == 2`).
    """
    import keras
    from keras import layers

    if head not in HEADS:
        raise ValueError(f"head={head!r}: use 'softmax' (num_classes outputs) or 'sigmoid' (one output, two classes).")
    if head == "sigmoid" and num_classes != 2:
        raise ValueError(f"A sigmoid head answers a yes/no question; num_classes={num_classes} needs head='softmax'.")
    if isinstance(texts_or_vectorizer, layers.TextVectorization):
        vectorize = texts_or_vectorizer
    else:
        vectorize = make_text_vectorizer(texts_or_vectorizer, max_tokens, sequence_length)

    text = keras.Input(shape=(), dtype="string", name="text")  # (B,)
    ids = vectorize(text)  # (B, L) int64, 0 = padding, 1 = [UNK]
    x = layers.Embedding(vectorize.vocabulary_size(), embedding_dim, mask_zero=True, name="embedding")(ids)  # (B, L, D)
    x = layers.GlobalAveragePooling1D(name="pool")(x)  # (B, D), mean over real tokens
    if hidden_units:
        x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)  # (B, H)
    if head == "softmax":
        out = layers.Dense(num_classes, activation="softmax", name="head")(x)  # (B, C)
        loss = "sparse_categorical_crossentropy"
    else:
        out = layers.Dense(1, activation="sigmoid", name="head")(x)  # (B, 1)
        loss = "binary_crossentropy"
    model = keras.Model(text, out, name=f"text_classifier_{head}{num_classes if head == 'softmax' else ''}")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    return model


def predict_labels(model, texts: Sequence[str]):
    """Class ids predicted by a `build_keras_text_classifier` model (either head)."""
    import numpy as np

    probabilities = model.predict(np.asarray(list(texts), dtype=object), verbose=0)
    if probabilities.shape[-1] == 1:
        return (probabilities[:, 0] > 0.5).astype(int)
    return probabilities.argmax(-1)


def positive_probability(model, texts: Sequence[str]):
    """P(class 1) for each text, whichever head the model has."""
    import numpy as np

    probabilities = model.predict(np.asarray(list(texts), dtype=object), verbose=0)
    return probabilities[:, 0] if probabilities.shape[-1] == 1 else probabilities[:, 1]

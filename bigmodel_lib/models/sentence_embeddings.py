"""Sentence embeddings from the real pretrained all-MiniLM-L6-v2, the way sentence-transformers makes them.

The recipe is three steps on top of a BERT encoder (6 layers, hidden size 384):

1. run the encoder: token ids (B, T) → hidden states (B, T, 384);
2. mean-pool the hidden states over the real tokens (the attention mask excludes padding);
3. L2-normalise, so the dot product of two embeddings is their cosine similarity.

The encoder is loaded once per process and per device (`load_minilm_reference`), so calling
`encode_sentences` again costs only the forward passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .bert import mean_pool

__all__ = ["encode_sentences", "load_minilm_reference", "mean_pool"]

MAX_LENGTH = 256  # all-MiniLM-L6-v2's max_seq_length (sentence_bert_config.json)


@lru_cache(maxsize=4)
def _load(device_name: str):
    from transformers import AutoModel, AutoTokenizer

    from ..data import minilm_dir

    folder = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).to(device_name).eval()
    return model, tokenizer


def load_minilm_reference(device=None):
    """transformers' MiniLM encoder (`AutoModel`, eval mode) and its tokenizer on `device`, cached per
    process: (model, tokenizer), the order of `bert.load_minilm` (our BERT).

    `device` is a `torch.device`, a name ("cpu", "cuda", "mps") or None for `bml.pick_device()`.
    """
    from ..device import pick_device

    name = str(device) if device is not None else str(pick_device())
    return _load(name)


def encode_sentences(
    texts: Sequence[str],
    batch_size: int = 32,
    device=None,
    normalize: bool = True,
    max_length: int = MAX_LENGTH,
    progress: bool = True,
) -> np.ndarray:
    """Embed `texts` with MiniLM: mean pooling over the attention mask, then L2 normalisation.

    Returns a float32 array of shape (len(texts), 384) in the order of `texts`. Sentences are
    batched by length (shortest first) so little time goes into padding.
    """
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    if isinstance(texts, str):
        raise TypeError("encode_sentences expects a list of sentences, not one string: wrap it as [text].")
    texts = list(texts)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    model, tokenizer = load_minilm_reference(device)
    dim = model.config.hidden_size
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    with torch.inference_mode():
        for index in tqdm(batches, desc="MiniLM embeddings", unit="batch", disable=not progress or not batches):
            batch = tokenizer(
                [texts[i] for i in index], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(model.device)
            hidden = model(**batch).last_hidden_state  # (B, T, 384)
            pooled = mean_pool(hidden, batch["attention_mask"])  # (B, 384)
            if normalize:
                pooled = F.normalize(pooled, p=2, dim=1)
            out[index] = pooled.float().cpu().numpy()
    return out

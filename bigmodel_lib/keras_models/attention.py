"""Keras counterparts of `bigmodel_lib.models.attention`, with weights copied from PyTorch."""

from __future__ import annotations

import numpy as np


def keras_mha_from_torch(torch_mha, seq_len: int = 4):
    """A `keras.layers.MultiHeadAttention` holding the same weights as our `MultiHeadSelfAttention`.

    PyTorch keeps q, k, v in one (3C, C) matrix `c_attn.weight` (out × in); Keras keeps one
    (C, H, D) kernel per projection (in × heads × head width) and a (H, D, C) output kernel.
    Call the result as `layer(x, x, use_causal_mask=True)` for the decoder's masked attention.
    """
    import keras

    c, h = torch_mha.n_embd, torch_mha.n_head
    d = c // h
    has_bias = torch_mha.c_attn.bias is not None
    layer = keras.layers.MultiHeadAttention(num_heads=h, key_dim=d, use_bias=has_bias, dtype="float32")
    x = np.zeros((1, seq_len, c), dtype="float32")
    layer(x, x)  # build the weights
    w_attn = torch_mha.c_attn.weight.detach().cpu().numpy()  # (3C, C)
    b_attn = torch_mha.c_attn.bias.detach().cpu().numpy() if has_bias else None
    dense = [layer._query_dense, layer._key_dense, layer._value_dense]
    for i, part in enumerate(dense):
        weights = [w_attn[i * c:(i + 1) * c].T.reshape(c, h, d)]  # (C, H, D)
        if has_bias:
            weights.append(b_attn[i * c:(i + 1) * c].reshape(h, d))  # (H, D)
        part.set_weights(weights)
    w_proj = torch_mha.c_proj.weight.detach().cpu().numpy()  # (C, C) out × in
    out = [w_proj.T.reshape(h, d, c)]  # (H, D, C)
    if has_bias:
        out.append(torch_mha.c_proj.bias.detach().cpu().numpy())
    layer._output_dense.set_weights(out)
    return layer

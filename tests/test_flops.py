"""The FLOPs formula (sizing.flops_per_token) against PyTorch's own FLOP counter on our GPT."""

import torch

from bigmodel_lib.models.flops import matmul_params, measured_forward_flops
from bigmodel_lib.models.gpt import GPT, GPTConfig
from bigmodel_lib.sizing import flops_per_token


def test_formula_equals_counted_forward_flops_of_a_gpt():
    config = GPTConfig(block_size=16, vocab_size=50, n_layer=2, n_head=2, n_embd=32)
    model = GPT(config).eval()
    for block in model.transformer.h:
        block.attn.use_sdpa = False  # the counter cannot see inside the fused kernel on CPU
    T = 16
    counted = measured_forward_flops(model, torch.randint(0, 50, (1, T)))
    n_matmul = matmul_params(model)  # the tied output head once
    assert counted == T * flops_per_token(n_matmul, config.n_layer, T, config.n_embd, training=False)

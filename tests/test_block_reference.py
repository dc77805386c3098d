"""Chapter 05's Transformer block and GPT against the same computation assembled from PyTorch's own modules."""

import pytest
import torch
from torch import nn

from bigmodel_lib.models.attention import causal_mask
from bigmodel_lib.models.gpt import GPT, Block, GPTConfig
from bigmodel_lib.numerics import check_matches, transformer_roundings

CONFIG = GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=4, n_embd=32)


class TorchBlock(nn.Module):
    """x + MHA(LN(x)), then x + Linear(GELU(Linear(LN(x)))), from torch.nn parts only."""

    def __init__(self, block: Block) -> None:
        super().__init__()
        c = block.ln_1.weight.numel()
        self.ln_1, self.ln_2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn = nn.MultiheadAttention(c, block.attn.n_head, batch_first=True)
        self.fc, self.proj = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
        with torch.no_grad():
            for ours, ref in ((block.ln_1, self.ln_1), (block.ln_2, self.ln_2), (block.mlp.c_fc, self.fc),
                              (block.mlp.c_proj, self.proj), (block.attn.c_proj, self.attn.out_proj)):
                ref.weight.copy_(ours.weight)
                ref.bias.copy_(ours.bias)
            self.attn.in_proj_weight.copy_(block.attn.c_attn.weight)
            self.attn.in_proj_bias.copy_(block.attn.c_attn.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        future = ~causal_mask(x.size(1))  # nn.MultiheadAttention masks where True
        x = x + self.attn(h, h, h, attn_mask=future, need_weights=False)[0]
        return x + self.proj(nn.functional.gelu(self.fc(self.ln_2(x)), approximate="tanh"))


def block_roundings(seq_len: int) -> int:
    c = CONFIG.n_embd
    return transformer_roundings(1, c, 4 * c, c // CONFIG.n_head, seq_len)


@pytest.mark.reference
def test_block_matches_one_assembled_from_torch_modules():
    torch.manual_seed(0)
    block = Block(CONFIG).eval()
    for p in block.parameters():  # move the LayerNorm gains and biases off their 1 / 0 start
        nn.init.normal_(p, std=0.3)
    x = torch.randn(2, 9, CONFIG.n_embd)
    expected = TorchBlock(block).eval()(x)
    check_matches("block vs torch modules (LayerNorm, MultiheadAttention, Linear, GELU)", block(x), expected,
                  terms=block_roundings(9))


@pytest.mark.reference
def test_gpt_matches_a_stack_of_torch_blocks():
    torch.manual_seed(0)
    model = GPT(CONFIG).eval()
    for p in model.parameters():  # larger than GPT-2's init, so that every part's output matters
        nn.init.normal_(p, std=0.3)
    idx = torch.randint(CONFIG.vocab_size, (2, 12))
    t = model.transformer
    x = t.wte(idx) + t.wpe(torch.arange(12))
    for block in t.h:
        x = TorchBlock(block).eval()(x)
    ln_f = nn.LayerNorm(CONFIG.n_embd)
    with torch.no_grad():
        ln_f.weight.copy_(t.ln_f.weight)
        ln_f.bias.copy_(t.ln_f.bias)
    expected = ln_f(x) @ t.wte.weight.T  # the output layer is the token embedding, transposed (tied)
    logits, _ = model(idx)
    check_matches("GPT logits vs a stack of torch blocks", logits, expected,
                  terms=transformer_roundings(CONFIG.n_layer, CONFIG.n_embd, 4 * CONFIG.n_embd,
                                              CONFIG.n_embd // CONFIG.n_head, 12))

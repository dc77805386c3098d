"""The GPT with a modern small-model recipe's changes, each one a switch (chapter 07's ablation).

    config = ModernGPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128)
    model = ModernGPT(config)                   # every switch modern: RoPE, RMSNorm, SwiGLU, QK-norm, untied, no biases
    classic = ModernGPT(ModernGPTConfig(..., **GPT2_LAYOUT))   # == GPT(GPTConfig(..., bias=False))

Every part comes from its one home: RMSNorm, RoPE and `attention` from `attention.py`, SwiGLU from
`llama.py`, LayerNorm, the GELU MLP, generation and saving from `gpt.py`. With the switches of
`GPT2_LAYOUT` the model is chapter 05's GPT (same parameter names, same numbers:
`tests/test_modern_gpt.py`), so an ablation can change one switch at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .attention import (
    LayerKVCache,
    LayerNorm,
    MultiHeadSelfAttention,
    RMSNorm,
    apply_rope,
    attention,
    merge_heads,
    rope_cos_sin,
    split_heads,
)
from .gpt import GPT, MLP, GPTConfig
from .llama import SwiGLUMLP

GPT2_LAYOUT = dict(position="learned", norm="layernorm", mlp="gelu", qk_norm=False, tie_weights=True)
_CHOICES = dict(position=("learned", "rope"), norm=("layernorm", "rmsnorm"), mlp=("gelu", "swiglu"))


@dataclass(frozen=True)
class ModernGPTConfig(GPTConfig):
    """GPTConfig plus the recipe's switches, each defaulting to its modern setting (chapter 07's recipe,
    `training.course_gpt.modern_recipe_config`, keeps those that helped)."""

    bias: bool = False
    position: str = "rope"  # "learned": GPT-2's position table
    norm: str = "rmsnorm"  # "layernorm"
    mlp: str = "swiglu"  # "gelu": GPT-2's 4C GELU MLP
    qk_norm: bool = True  # RMS-normalise queries and keys per head before the dot product
    tie_weights: bool = True  # the output layer reuses the token embedding
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"ModernGPTConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}.")

    @property
    def n_inner(self) -> int:
        """SwiGLU's hidden width: 8C/3 rounded up to a multiple of 32, so its three matrices hold about
        the 8C² weights of GPT-2's two."""
        return 32 * math.ceil(8 * self.n_embd / 3 / 32)


def make_norm(config: ModernGPTConfig, width: int) -> nn.Module:
    if config.norm == "rmsnorm":
        return RMSNorm(width, config.norm_eps)
    return LayerNorm(width, bias=config.bias, eps=config.norm_eps)


class ModernAttention(MultiHeadSelfAttention):
    """Chapter 05's causal attention (same `c_attn`, `c_proj`), plus QK-norm and rotary positions."""

    def __init__(self, config: ModernGPTConfig) -> None:
        super().__init__(config.n_embd, config.n_head, config.dropout, config.bias, causal=True)
        head_dim = config.n_embd // config.n_head
        self.q_norm = RMSNorm(head_dim, config.norm_eps) if config.qk_norm else None
        self.k_norm = RMSNorm(head_dim, config.norm_eps) if config.qk_norm else None

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None,
                cache: LayerKVCache | None = None) -> torch.Tensor:
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # each (B, T, C)
        q, k, v = (split_heads(z, self.n_head) for z in (q, k, v))  # each (B, H, T, D)
        if self.q_norm is not None:  # unit-RMS q and k: the scores cannot grow without bound
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:  # positions enter by rotating q and k
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if cache is not None:
            k, v = cache.append(k, v)  # (B, H, S, D)
        y = attention(q, k, v, causal=True, use_sdpa=self.use_sdpa, dropout_p=self.dropout if self.training else 0.0)
        return self.resid_dropout(self.c_proj(merge_heads(y)))  # (B, T, C)


class ModernBlock(nn.Module):
    """Pre-norm block, GPT-2's names: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: ModernGPTConfig) -> None:
        super().__init__()
        self.ln_1 = make_norm(config, config.n_embd)
        self.attn = ModernAttention(config)
        self.ln_2 = make_norm(config, config.n_embd)
        self.mlp = SwiGLUMLP(config) if config.mlp == "swiglu" else MLP(config)

    def forward(self, x: torch.Tensor, rope=None, cache: LayerKVCache | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), rope, cache)  # (B, T, C)
        return x + self.mlp(self.ln_2(x))


class ModernGPT(GPT):
    """Chapter 05's GPT with the switches of `ModernGPTConfig`; generation and saving are GPT's."""

    def __init__(self, config: ModernGPTConfig) -> None:
        nn.Module.__init__(self)
        self.config = config
        parts = dict(wte=nn.Embedding(config.vocab_size, config.n_embd), drop=nn.Dropout(config.dropout),
                     h=nn.ModuleList([ModernBlock(config) for _ in range(config.n_layer)]),
                     ln_f=make_norm(config, config.n_embd))
        if config.position == "learned":
            parts["wpe"] = nn.Embedding(config.block_size, config.n_embd)
        self.transformer = nn.ModuleDict(parts)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2's 1/√(2·n_layer) on the residual projections
            if name.endswith(("c_proj.weight", "down_proj.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def num_parameters(self, non_embedding: bool = False) -> int:
        n = sum(p.numel() for p in self.parameters())
        has_table = "wpe" in self.transformer
        return n - self.transformer.wpe.weight.numel() if non_embedding and has_table else n

    def hidden_states(self, idx: torch.Tensor, cache=None) -> torch.Tensor:
        c = self.config
        start, T = (0 if cache is None else cache.length), idx.shape[1]  # noqa: N806
        if start + T > c.block_size:
            raise ValueError(f"sequence of {start + T} tokens is longer than block_size={c.block_size}; "
                             "crop the context (generate() does this for you)")
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)  # (T,)
        x = self.transformer.wte(idx)  # (B, T, C)
        rope = None
        if c.position == "learned":
            x = x + self.transformer.wpe(pos)
        else:
            rope = tuple(t.to(x.dtype) for t in rope_cos_sin(c.n_embd // c.n_head, pos, c.rope_theta))  # (T, D)
        x = self.transformer.drop(x)
        for i, block in enumerate(self.transformer.h):
            x = block(x, rope, None if cache is None else cache.layers[i])
        return self.transformer.ln_f(x)

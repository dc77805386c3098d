"""A Llama-style decoder written from scratch, loading the real SmolLM2-135M-Instruct weights.

Assembled from chapter 05's parts (`attention.py`: RMSNorm, RoPE, attention, the KV cache;
`gpt.py`: sampling). What changes from GPT-2:
- `RMSNorm` instead of LayerNorm (no mean subtraction, no bias);
- rotary position embeddings (`rope_cos_sin`, `apply_rope`) instead of a learned position table;
- `SwiGLUMLP`: a gated MLP, silu(gate(x)) * up(x), instead of GELU(fc(x));
- grouped-query attention: n_kv_head < n_head key/value heads, each shared by a group of
  query heads (`repeat_kv`), which shrinks the KV cache;
- no biases in any linear layer; the output head tied to the token embedding.

Parameter names follow the published Llama checkpoints (`q_proj`, `gate_proj`, ...) so LoRA
can target them by name; `hf_to_ours()` maps transformers' names onto ours.

Notation: B batch, T new tokens, S = cached + new tokens, C = n_embd, H query heads,
K = n_kv_head key/value heads, D head size.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from .attention import KVCache, LayerKVCache, RMSNorm, apply_rope, attention, rope_cos_sin
from .gpt import check_generation, sample_next
from .weight_names import load_exactly, rename_by_rules

__all__ = ["KVCache", "Llama", "LlamaConfig", "RMSNorm", "apply_rope", "rope_cos_sin"]


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int = 49152
    n_layer: int = 30
    n_head: int = 9
    n_kv_head: int = 3
    n_embd: int = 576
    n_inner: int = 1536  # SwiGLU hidden size
    max_seq_len: int = 8192
    rope_theta: float = 100000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @classmethod
    def from_hf(cls, hf_config) -> LlamaConfig:
        """From a transformers `LlamaConfig` (or its dict)."""
        hf = hf_config if isinstance(hf_config, dict) else hf_config.to_dict()
        rope = hf.get("rope_parameters") or {}
        theta = rope.get("rope_theta", hf.get("rope_theta", 10000.0))
        if rope.get("rope_type", "default") != "default":
            raise ValueError(f"Only plain RoPE is implemented, not rope_type={rope['rope_type']!r}.")
        if hf.get("hidden_act", "silu") != "silu" or hf.get("attention_bias") or hf.get("mlp_bias"):
            raise ValueError("Only silu-gated, bias-free Llama checkpoints are supported.")
        config = cls(
            vocab_size=hf["vocab_size"],
            n_layer=hf["num_hidden_layers"],
            n_head=hf["num_attention_heads"],
            n_kv_head=hf.get("num_key_value_heads") or hf["num_attention_heads"],
            n_embd=hf["hidden_size"],
            n_inner=hf["intermediate_size"],
            max_seq_len=hf["max_position_embeddings"],
            rope_theta=float(theta),
            norm_eps=hf["rms_norm_eps"],
            tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
        )
        if hf.get("head_dim") not in (None, config.head_dim):
            raise ValueError(f"head_dim={hf['head_dim']} differs from n_embd // n_head = {config.head_dim}.")
        return config

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, K, S, D) -> (B, K * n_rep, S, D): query head h reads key/value head h // n_rep."""
    return x if n_rep == 1 else x.repeat_interleave(n_rep, dim=1)


class LlamaAttention(nn.Module):
    """Causal grouped-query attention with rotary positions and no biases."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        if config.n_head % config.n_kv_head:
            raise ValueError(f"n_head={config.n_head} must be a multiple of n_kv_head={config.n_kv_head}.")
        self.n_head, self.n_kv_head, self.head_dim = config.n_head, config.n_kv_head, config.head_dim
        self.q_proj = nn.Linear(config.n_embd, config.n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(config.n_embd, config.n_kv_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(config.n_embd, config.n_kv_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(config.n_head * self.head_dim, config.n_embd, bias=False)
        self.use_sdpa = True  # PyTorch's fused kernel; False: the written-out attention

    def forward(self, x, cos, sin, cache: LayerKVCache | None = None) -> torch.Tensor:
        B, T, _ = x.shape
        D = self.head_dim
        q = self.q_proj(x).view(B, T, self.n_head, D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, self.n_kv_head, D).transpose(1, 2)  # (B, K, T, D)
        v = self.v_proj(x).view(B, T, self.n_kv_head, D).transpose(1, 2)  # (B, K, T, D)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)  # positions enter here only
        if cache is not None:
            k, v = cache.append(k, v)  # (B, K, S, D)
        n_rep = self.n_head // self.n_kv_head
        y = attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep), causal=True, use_sdpa=self.use_sdpa)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, self.n_head * D))  # (B, T, C)


class SwiGLUMLP(nn.Module):
    """down(silu(gate(x)) * up(x)): the gate decides, per hidden unit, how much of up(x) passes."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(config.n_embd, config.n_inner, bias=False)
        self.up_proj = nn.Linear(config.n_embd, config.n_inner, bias=False)
        self.down_proj = nn.Linear(config.n_inner, config.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, C)
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaBlock(nn.Module):
    """Pre-norm block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.attn_norm = RMSNorm(config.n_embd, config.norm_eps)
        self.attn = LlamaAttention(config)
        self.mlp_norm = RMSNorm(config.n_embd, config.norm_eps)
        self.mlp = SwiGLUMLP(config)

    def forward(self, x, cos, sin, cache: LayerKVCache | None = None) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), cos, sin, cache)  # (B, T, C)
        return x + self.mlp(self.mlp_norm(x))  # (B, T, C)


class Llama(nn.Module):
    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.layers = nn.ModuleList(LlamaBlock(config) for _ in range(config.n_layer))
        self.norm = RMSNorm(config.n_embd, config.norm_eps)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.apply(self._init_weights)
        if config.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight  # one (V, C) matrix reads and writes tokens

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def hidden_states(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Final-normed hidden states (B, T, C) of new tokens idx (B, T), continuing `cache` if given."""
        T = idx.shape[1]
        start = cache.length if cache is not None else 0
        if start + T > self.config.max_seq_len:
            raise ValueError(f"{start + T} tokens exceed max_seq_len={self.config.max_seq_len}.")
        positions = torch.arange(start, start + T, device=idx.device)  # (T,)
        cos, sin = rope_cos_sin(self.config.head_dim, positions, self.config.rope_theta)  # (T, D)
        x = self.tok_emb(idx)  # (B, T, C)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for i, block in enumerate(self.layers):
            x = block(x, cos, sin, None if cache is None else cache.layers[i])
        return self.norm(x)

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
        ignore_index: int = -100,
    ):
        """idx: (B, T) new token ids (continuing `cache` if given). Returns logits (B, T, V)
        and, with targets (B, T), the mean cross-entropy over targets != ignore_index."""
        logits = self.lm_head(self.hidden_states(idx, cache))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=ignore_index)
        return logits, loss

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_k: int | None = None,
        top_p: float | None = None,
        eos_token_id: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Continue idx (B, T) by up to max_new_tokens, feeding one token per step through a
        KV cache; each token is picked by `sample_next` (temperature 0 = greedy). Stops early
        once every row has produced eos.

        A 1-D prompt (pass idx[None]), an empty one or `top_k < 1` is a ValueError."""
        check_generation(idx, max_new_tokens, top_k)
        cache = KVCache(self.config.n_layer)
        logits, _ = self(idx, cache=cache)  # prefill: the whole prompt at once
        out, done = idx, torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)
        for _ in range(max_new_tokens):
            nxt = sample_next(logits[:, -1, :].float(), temperature, top_k, top_p, generator)  # (B, 1)
            if eos_token_id is not None:
                nxt = nxt.masked_fill(done[:, None], eos_token_id)
                done = done | (nxt[:, 0] == eos_token_id)
            out = torch.cat([out, nxt], dim=1)
            if eos_token_id is not None and bool(done.all()):
                break
            logits, _ = self(nxt, cache=cache)  # one new token, attending to the cache
        return out


# --- transformers' Llama names -> ours ---------------------------------------------------

HF_NAME_RULES: list[tuple[str, str]] = [
    (r"model\.embed_tokens\.weight", r"tok_emb.weight"),
    (r"model\.layers\.(\d+)\.input_layernorm\.weight", r"layers.\1.attn_norm.weight"),
    (r"model\.layers\.(\d+)\.self_attn\.(q_proj|k_proj|v_proj|o_proj)\.weight", r"layers.\1.attn.\2.weight"),
    (r"model\.layers\.(\d+)\.post_attention_layernorm\.weight", r"layers.\1.mlp_norm.weight"),
    (r"model\.layers\.(\d+)\.mlp\.(gate_proj|up_proj|down_proj)\.weight", r"layers.\1.mlp.\2.weight"),
    (r"model\.norm\.weight", r"norm.weight"),
    (r"lm_head\.weight", r"lm_head.weight"),
]


def hf_to_ours(name: str) -> str:
    """Our parameter name for a transformers Llama tensor name."""
    return rename_by_rules(name, HF_NAME_RULES)


def load_hf_state_dict(model: Llama, state: dict[str, torch.Tensor]) -> Llama:
    """Copy a transformers Llama state dict into `model` (tied head: lm_head may be absent)."""
    ours = {hf_to_ours(name): tensor for name, tensor in state.items()}
    if model.config.tie_embeddings:
        head = ours.pop("lm_head.weight", None)
        if head is not None and not torch.equal(head, ours["tok_emb.weight"]):
            raise ValueError("Config ties the embeddings but the checkpoint's lm_head differs from embed_tokens.")
        ours["lm_head.weight"] = ours["tok_emb.weight"]
    return load_exactly(model, ours)


def from_hf_model(hf_model) -> Llama:
    """Our `Llama` with the weights of a transformers `LlamaForCausalLM` (copied, same dtype)."""
    config = LlamaConfig.from_hf(hf_model.config)
    model = Llama(config).to(hf_model.dtype)
    state = {k: v.detach().clone() for k, v in hf_model.state_dict().items()}
    return load_hf_state_dict(model, state).eval()

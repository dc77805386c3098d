"""A Llama-style decoder written from scratch, loading the real SmolLM2-135M-Instruct weights.

What changes from GPT-2, one module each:
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

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from .gpt import check_generation
from .weight_names import load_exactly, rename_by_rules


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


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight: LayerNorm without centring and without a bias."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., C) -> (..., C)
        x32 = x.float()  # normalise in fp32 even when the model runs in half precision
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_cos_sin(head_dim: int, positions: torch.Tensor, theta: float = 10000.0):
    """Rotation angles for positions (T,): cos and sin of shape (T, D).
    Pair i of a head (channels i and i + D/2) turns by angle pos * theta^(-2i/D)."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    angles = positions.float()[:, None] * inv_freq[None, :]  # (T, D/2)
    angles = torch.cat([angles, angles], dim=-1)  # (T, D): same angle for i and i + D/2
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate queries or keys x (B, heads, T, D) by their positions' angles (cos, sin: (T, D))."""
    return (x * cos + rotate_half(x) * sin).to(x.dtype)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, K, S, D) -> (B, K * n_rep, S, D): query head h reads key/value head h // n_rep."""
    return x if n_rep == 1 else x.repeat_interleave(n_rep, dim=1)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(D) + causal mask) v for q (B, H, T, D), k and v (B, H, S, D), where
    the T queries are the last T of the S positions. Uses PyTorch's fused kernel; it equals
    the written-out version (`causal_attention_reference`) up to float rounding."""
    T, S = q.shape[2], k.shape[2]
    if T == S:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if T == 1:
        return F.scaled_dot_product_attention(q, k, v)  # the newest token may read every key
    causal = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(diagonal=S - T)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=causal)


def causal_attention_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The same computation written out, for reading and for tests."""
    T, S, D = q.shape[2], k.shape[2], q.shape[3]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(D)  # (B, H, T, S)
    # New token t sits at position S - T + t and may read keys 0 .. S - T + t.
    causal = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(diagonal=S - T)
    return scores.masked_fill(~causal, float("-inf")).softmax(dim=-1) @ v  # (B, H, T, D)


class KVCache:
    """Keys and values of the tokens seen so far, per layer: (B, K, S, D) each."""

    def __init__(self, n_layer: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer

    @property
    def length(self) -> int:
        return 0 if self.keys[0] is None else self.keys[0].shape[2]

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append this step's k, v (B, K, T, D); return all of them (B, K, S, D)."""
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.keys + self.values if t is not None)


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
        self.fused = True  # PyTorch's fused kernel; False: the written-out reference

    def forward(self, x, cos, sin, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        B, T, _ = x.shape
        D = self.head_dim
        q = self.q_proj(x).view(B, T, self.n_head, D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, self.n_kv_head, D).transpose(1, 2)  # (B, K, T, D)
        v = self.v_proj(x).view(B, T, self.n_kv_head, D).transpose(1, 2)  # (B, K, T, D)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)  # positions enter here only
        if cache is not None:
            k, v = cache.update(layer, k, v)  # (B, K, S, D)
        n_rep = self.n_head // self.n_kv_head
        attend = causal_attention if self.fused else causal_attention_reference
        y = attend(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep))  # (B, H, T, D)
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

    def forward(self, x, cos, sin, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), cos, sin, cache, layer)  # (B, T, C)
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

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
        ignore_index: int = -100,
    ):
        """idx: (B, T) new token ids (continuing `cache` if given). Returns logits (B, T, V)
        and, with targets (B, T), the mean cross-entropy over targets != ignore_index."""
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > self.config.max_seq_len:
            raise ValueError(f"{start + T} tokens exceed max_seq_len={self.config.max_seq_len}.")
        positions = torch.arange(start, start + T, device=idx.device)  # (T,)
        cos, sin = rope_cos_sin(self.config.head_dim, positions, self.config.rope_theta)  # (T, D)
        x = self.tok_emb(idx)  # (B, T, C)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for i, block in enumerate(self.layers):
            x = block(x, cos, sin, cache, i)
        logits = self.lm_head(self.norm(x))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=ignore_index)
        return logits, loss

    def set_fused_attention(self, fused: bool) -> Llama:
        """Use PyTorch's fused attention kernel (default) or the written-out reference, which
        e.g. FLOP counters can see into."""
        for block in self.layers:
            block.attn.fused = fused
        return self

    def num_params(self) -> int:
        """Distinct parameters (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_k: int | None = None,
        eos_token_id: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Continue idx (B, T) by up to max_new_tokens, feeding one token per step through a
        KV cache. temperature 0 = greedy. Stops early once every row has produced eos.

        A 1-D prompt (pass idx[None]), an empty one or `top_k < 1` is a ValueError."""
        check_generation(idx, max_new_tokens, top_k)
        cache = KVCache(self.config.n_layer)
        logits, _ = self(idx, cache=cache)  # prefill: the whole prompt at once
        out, done = idx, torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)
        for _ in range(max_new_tokens):
            next_logits = logits[:, -1, :].float()  # (B, V)
            if temperature == 0.0:
                nxt = next_logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                next_logits = next_logits / temperature
                if top_k is not None:
                    kth = torch.topk(next_logits, min(top_k, next_logits.shape[-1])).values[:, -1:]
                    next_logits = next_logits.masked_fill(next_logits < kth, float("-inf"))
                nxt = torch.multinomial(next_logits.softmax(dim=-1), 1, generator=generator)
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

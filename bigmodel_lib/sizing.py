"""How big is a model? Parameter counts, compute, memory and cost from architecture configs.

Everything here is arithmetic on a model's shape, no weights needed:

- parameter counts for BERT-style encoders, GPT-2-style decoders and Llama-style decoders
  (`parameter_count(arch)`, `parameter_breakdown(arch)`), with the named configs in `MODELS`;
- parameter counts of real checkpoints from their tensor shapes (`count_safetensors_parameters`,
  `count_gguf_parameters`), without loading or de-quantising the weights;
- training compute (C ≈ 6·N·D) and FLOPs per token (6N + 12·L·T·d);
- memory for training (weights, gradients, Adam states, activations) and inference (weights,
  KV cache), and how many 80 GB accelerators that is;
- Chinchilla's compute-optimal model size and token count for a compute budget;
- the cost of a run: FLOPs → GPU-hours at a model FLOPs utilisation (MFU) → money.

`gpt_parameter_count(cfg)` reads plain fields (n_layer, n_embd, vocab_size, block_size, and
optionally bias, tied), so any GPT config dataclass with those fields works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- architectures


@dataclass(frozen=True)
class BertArch:
    """A BERT-style encoder: learned token, position and segment embeddings, post-LayerNorm blocks."""

    n_layer: int
    n_head: int
    d_model: int
    d_ff: int
    vocab_size: int = 30522
    max_position: int = 512
    type_vocab_size: int = 2
    pooler: bool = True  # the [CLS] dense+tanh layer BertModel carries


@dataclass(frozen=True)
class GPTArch:
    """A GPT-2-style decoder (nanoGPT field names): learned positions, pre-LayerNorm, GELU MLP of 4·d."""

    n_layer: int
    n_head: int
    n_embd: int
    vocab_size: int = 50257
    block_size: int = 1024
    bias: bool = True  # biases in Linear and LayerNorm layers (GPT-2: yes)
    tied: bool = True  # the LM head shares the token-embedding matrix


@dataclass(frozen=True)
class LlamaArch:
    """A Llama-style decoder: RoPE (no position parameters), RMSNorm, SwiGLU MLP, grouped-query attention."""

    n_layer: int
    n_head: int
    n_kv_head: int
    d_model: int
    d_ff: int
    vocab_size: int
    max_position: int = 2048
    tied: bool = False

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


Arch = BertArch | GPTArch | LlamaArch

# Configs from the papers and the released config files.
MODELS: dict[str, Arch] = {
    "BERT-base": BertArch(n_layer=12, n_head=12, d_model=768, d_ff=3072),
    "BERT-large": BertArch(n_layer=24, n_head=16, d_model=1024, d_ff=4096),
    "MiniLM-L6 (all-MiniLM-L6-v2)": BertArch(n_layer=6, n_head=12, d_model=384, d_ff=1536),
    "GPT-2 small": GPTArch(n_layer=12, n_head=12, n_embd=768),
    "GPT-2 medium": GPTArch(n_layer=24, n_head=16, n_embd=1024),
    "GPT-2 large": GPTArch(n_layer=36, n_head=20, n_embd=1280),
    "GPT-2 XL": GPTArch(n_layer=48, n_head=25, n_embd=1600),
    "GPT-3 175B": GPTArch(n_layer=96, n_head=96, n_embd=12288, block_size=2048),
    "SmolLM2-135M": LlamaArch(
        n_layer=30, n_head=9, n_kv_head=3, d_model=576, d_ff=1536, vocab_size=49152, max_position=8192, tied=True
    ),
}

# Parameter counts as the authors state them, with where they say it.
PUBLISHED_PARAMS: dict[str, tuple[float, str]] = {
    "BERT-base": (110e6, "Devlin et al. 2018, §3: 110M"),
    "BERT-large": (340e6, "Devlin et al. 2018, §3: 340M"),
    "MiniLM-L6 (all-MiniLM-L6-v2)": (22.7e6, "sentence-transformers model card: 22.7M"),
    "GPT-2 small": (124e6, "openai/gpt-2 release name: 124M"),
    "GPT-2 medium": (355e6, "openai/gpt-2 release name: 355M"),
    "GPT-2 large": (774e6, "openai/gpt-2 release name: 774M"),
    "GPT-2 XL": (1558e6, "openai/gpt-2 release name: 1558M (announced as 1.5B)"),
    "GPT-3 175B": (175e9, "Brown et al. 2020, Table 2.1: 175.0B"),
    "SmolLM2-135M": (135e6, "HuggingFaceTB model card: 135M"),
}

# Well-known model sizes over time (published totals), for the timeline plot.
MODEL_TIMELINE: list[tuple[str, int, float]] = [
    ("Transformer (big)", 2017, 213e6),
    ("BERT-large", 2018, 340e6),
    ("GPT-2 XL", 2019, 1.5e9),
    ("T5-11B", 2019, 11e9),
    ("GPT-3", 2020, 175e9),
    ("Chinchilla", 2022, 70e9),
    ("PaLM", 2022, 540e9),
    ("Llama 2 70B", 2023, 70e9),
    ("SmolLM2-135M", 2024, 135e6),
    ("Llama 3.1 405B", 2024, 405e9),
]

# Published training-token counts (D) where the paper states them.
PUBLISHED_TRAINING_TOKENS: dict[str, tuple[float, str]] = {
    "GPT-3 175B": (300e9, "Brown et al. 2020, Table D.1"),
    "SmolLM2-135M": (2e12, "Allal et al. 2025 (SmolLM2 paper): 2T tokens"),
    "Chinchilla": (1.4e12, "Hoffmann et al. 2022: 70B params, 1.4T tokens"),
}

# ---------------------------------------------------------------------- parameter counts


def _linear(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def bert_parameter_breakdown(cfg: BertArch) -> dict[str, int]:
    """Parameters of a HF `BertModel` by part (no pretraining heads)."""
    d, f = cfg.d_model, cfg.d_ff
    layer_norm = 2 * d  # weight and bias
    attention = 4 * _linear(d, d)  # query, key, value, output
    mlp = _linear(d, f) + _linear(f, d)
    return {
        "embeddings": (cfg.vocab_size + cfg.max_position + cfg.type_vocab_size) * d + layer_norm,
        "attention": cfg.n_layer * attention,
        "mlp": cfg.n_layer * mlp,
        "norms": cfg.n_layer * 2 * layer_norm,
        "head": _linear(d, d) if cfg.pooler else 0,  # pooler: dense + tanh on [CLS]
    }


def bert_parameter_count(cfg: BertArch) -> int:
    return sum(bert_parameter_breakdown(cfg).values())


def gpt_parameter_breakdown(cfg: Any, non_embedding: bool = False) -> dict[str, int]:
    """Parameters of a GPT-2-style decoder by part.

    `cfg` is any object with n_layer, n_embd, vocab_size, block_size and optionally bias
    (default True) and tied (default True). `non_embedding=True` leaves out the position
    embeddings, as nanoGPT's `get_num_params()` does.
    """
    d, n_layer = cfg.n_embd, cfg.n_layer
    bias = getattr(cfg, "bias", True)
    tied = getattr(cfg, "tied", True)
    layer_norm = 2 * d if bias else d
    return {
        "embeddings": cfg.vocab_size * d + (0 if non_embedding else cfg.block_size * d),
        "attention": n_layer * (_linear(d, 3 * d, bias) + _linear(d, d, bias)),  # c_attn, c_proj
        "mlp": n_layer * (_linear(d, 4 * d, bias) + _linear(4 * d, d, bias)),  # c_fc, c_proj
        "norms": (2 * n_layer + 1) * layer_norm,  # ln_1, ln_2 per block, ln_f
        "head": 0 if tied else cfg.vocab_size * d,  # lm_head (no bias); tied: shares wte
    }


def gpt_parameter_count(cfg: Any, non_embedding: bool = False) -> int:
    """Total parameters of a GPT-2-style decoder from plain config fields (see the breakdown)."""
    return sum(gpt_parameter_breakdown(cfg, non_embedding=non_embedding).values())


def llama_parameter_breakdown(cfg: LlamaArch) -> dict[str, int]:
    """Parameters of a Llama-style decoder (no biases, RMSNorm weight only) by part."""
    d, kv = cfg.d_model, cfg.n_kv_head * cfg.head_dim
    return {
        "embeddings": cfg.vocab_size * d,
        "attention": cfg.n_layer * (d * d + 2 * d * kv + d * d),  # q, k and v (grouped), o
        "mlp": cfg.n_layer * 3 * d * cfg.d_ff,  # gate, up, down
        "norms": (2 * cfg.n_layer + 1) * d,
        "head": 0 if cfg.tied else cfg.vocab_size * d,
    }


def llama_parameter_count(cfg: LlamaArch) -> int:
    return sum(llama_parameter_breakdown(cfg).values())


def parameter_breakdown(arch: Arch) -> dict[str, int]:
    """Parameters by part (embeddings, attention, mlp, norms, head) for any of the three families."""
    if isinstance(arch, BertArch):
        return bert_parameter_breakdown(arch)
    if isinstance(arch, LlamaArch):
        return llama_parameter_breakdown(arch)
    if hasattr(arch, "n_embd"):
        return gpt_parameter_breakdown(arch)
    raise TypeError(f"Don't know how to count {type(arch).__name__}: use BertArch, GPTArch or LlamaArch.")


def parameter_count(arch: Arch) -> int:
    return sum(parameter_breakdown(arch).values())


def arch_dims(arch: Arch) -> dict[str, int]:
    """Common names for the sizes compute and memory formulas need."""
    if isinstance(arch, BertArch):
        return dict(n_layer=arch.n_layer, n_head=arch.n_head, n_kv_head=arch.n_head, d_model=arch.d_model,
                    d_ff=arch.d_ff, context=arch.max_position, gated=0)
    if isinstance(arch, LlamaArch):
        return dict(n_layer=arch.n_layer, n_head=arch.n_head, n_kv_head=arch.n_kv_head, d_model=arch.d_model,
                    d_ff=arch.d_ff, context=arch.max_position, gated=1)
    return dict(n_layer=arch.n_layer, n_head=arch.n_head, n_kv_head=arch.n_head, d_model=arch.n_embd,
                d_ff=4 * arch.n_embd, context=arch.block_size, gated=0)


def transformers_model(arch: Arch):
    """The matching Hugging Face model built on the `meta` device: real modules, no memory, no weights.

    BertModel for BertArch, GPT2LMHeadModel for GPTArch (bias=True only), LlamaForCausalLM for LlamaArch.
    Counting its parameters is an independent check of the formulas above.
    """
    import torch
    import transformers as hf

    with torch.device("meta"):
        if isinstance(arch, BertArch):
            config = hf.BertConfig(vocab_size=arch.vocab_size, hidden_size=arch.d_model, num_hidden_layers=arch.n_layer,
                                   num_attention_heads=arch.n_head, intermediate_size=arch.d_ff,
                                   max_position_embeddings=arch.max_position, type_vocab_size=arch.type_vocab_size)
            return hf.BertModel(config, add_pooling_layer=arch.pooler)
        if isinstance(arch, LlamaArch):
            config = hf.LlamaConfig(vocab_size=arch.vocab_size, hidden_size=arch.d_model, intermediate_size=arch.d_ff,
                                    num_hidden_layers=arch.n_layer, num_attention_heads=arch.n_head,
                                    num_key_value_heads=arch.n_kv_head, max_position_embeddings=arch.max_position,
                                    tie_word_embeddings=arch.tied)
            return hf.LlamaForCausalLM(config)
        if not getattr(arch, "bias", True):
            raise ValueError("GPT2LMHeadModel always has biases: compare bias=False configs with your own model.")
        config = hf.GPT2Config(vocab_size=arch.vocab_size, n_positions=arch.block_size, n_embd=arch.n_embd,
                               n_layer=arch.n_layer, n_head=arch.n_head, tie_word_embeddings=getattr(arch, "tied", True))
        return hf.GPT2LMHeadModel(config)


def count_parameters(model, trainable_only: bool = True) -> int:
    """Parameters of a torch module that receive gradients (`requires_grad`), or all of them with
    `trainable_only=False`; shared tensors (such as tied embeddings) are counted once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# ------------------------------------------------------------------ real checkpoints


def safetensors_shapes(path: Path | str) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape, read from the file header (no weights loaded)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}


def count_safetensors_parameters(path: Path | str, skip: tuple[str, ...] = ("position_ids",)) -> int:
    """Parameters stored in a safetensors file; names containing `skip` (buffers, not weights) are left out."""
    return sum(math.prod(shape) for name, shape in safetensors_shapes(path).items() if not any(s in name for s in skip))


def gguf_reader(path_or_reader):
    """A `gguf.GGUFReader` for a path (reading the header takes seconds: pass a reader to reuse it)."""
    from gguf import GGUFReader

    return path_or_reader if isinstance(path_or_reader, GGUFReader) else GGUFReader(str(path_or_reader))


def gguf_shapes(path: Path | str | Any) -> dict[str, tuple[int, ...]]:
    """Tensor name → logical shape in PyTorch order, read without de-quantising.

    GGUF lists dimensions fastest-varying first (ggml's ne[0] = columns), the reverse of
    PyTorch's (rows, columns), so the shape is reversed here: `token_embd.weight` reads
    (576, 49152) in the file and (49152, 576) here.
    """
    reader = gguf_reader(path)
    return {t.name: tuple(int(n) for n in reversed(t.shape.tolist())) for t in reader.tensors}


def count_gguf_parameters(path: Path | str | Any) -> int:
    """Logical parameters (elements) stored in a GGUF file, whatever their quantisation."""
    return sum(math.prod(shape) for shape in gguf_shapes(path).values())


def llama_arch_from_gguf(path: Path | str | Any) -> LlamaArch:
    """Read a Llama-family architecture from a GGUF file's metadata (a path or a GGUFReader);
    tied if the file stores no separate output matrix."""
    reader = gguf_reader(path)
    arch = reader.fields["general.architecture"].contents()

    def field(key: str):
        return reader.fields[f"{arch}.{key}"].contents()

    names = {t.name for t in reader.tensors}
    return LlamaArch(
        n_layer=int(field("block_count")),
        n_head=int(field("attention.head_count")),
        n_kv_head=int(field("attention.head_count_kv")),
        d_model=int(field("embedding_length")),
        d_ff=int(field("feed_forward_length")),
        vocab_size=int(field("vocab_size")),
        max_position=int(field("context_length")),
        tied="output.weight" not in names,
    )


def bert_arch_from_hf_config(config: dict, pooler: bool = True) -> BertArch:
    """A BertArch from a Hugging Face `config.json` dictionary."""
    return BertArch(
        n_layer=config["num_hidden_layers"],
        n_head=config["num_attention_heads"],
        d_model=config["hidden_size"],
        d_ff=config["intermediate_size"],
        vocab_size=config["vocab_size"],
        max_position=config["max_position_embeddings"],
        type_vocab_size=config.get("type_vocab_size", 2),
        pooler=pooler,
    )


# ------------------------------------------------------------------------------ compute


def training_flops(n_params: float, n_tokens: float) -> float:
    """C ≈ 6·N·D: 2 FLOPs per parameter per token forward, 4 backward (Kaplan et al. 2020)."""
    return 6.0 * n_params * n_tokens


def flops_per_token(n_params: float, n_layer: int, seq_len: int, d_model: int, training: bool = True) -> float:
    """FLOPs per token including attention scores: 6N + 12·L·T·d to train, 2N + 4·L·T·d forward only.

    The attention term counts QKᵀ and (softmax)·V, which have no parameters (PaLM, Appendix B;
    nanoGPT's MFU estimate uses the same formula).
    """
    forward = 2.0 * n_params + 4.0 * n_layer * seq_len * d_model
    return 3.0 * forward if training else forward


# ------------------------------------------------------------------------------ memory

GIB = 2**30
BYTES_PER_PARAM_TRAINING = {
    # weights, gradients, optimizer states (Adam: two moments, fp32) per parameter, in bytes
    "fp32": {"weights": 4, "gradients": 4, "optimizer": 8},
    # mixed precision (ZeRO paper §3.1): fp16/bf16 weights and gradients, fp32 master copy + Adam moments
    "mixed": {"weights": 2, "gradients": 2, "optimizer": 4 + 8},
}
BYTES_PER_VALUE = {"fp32": 4, "mixed": 2, "fp16": 2, "bf16": 2, "int8": 1, "int4": 0.5}


def activation_bytes(arch: Arch, seq_len: int, batch_size: int = 1, precision: str = "mixed") -> float:
    """Activations kept for the backward pass, no recomputation (Korthikanti et al. 2022, eq. 2).

    Per layer with 16-bit activations: s·b·d·(34 + 5·a·s/d) bytes for a 4·d GELU MLP, i.e.
    attention 11·s·b·d + 5·a·s²·b, MLP 3·s·b·d + 4·s·b·f, two norms 4·s·b·d. Generalised here to an
    MLP of width f (6·s·b·f for a gated SwiGLU MLP, which also keeps the gate and up outputs) and
    scaled by the precision's bytes per value. Embeddings and logits are left out: an estimate.
    """
    dims = arch_dims(arch)
    s, b, d, a, f = seq_len, batch_size, dims["d_model"], dims["n_head"], dims["d_ff"]
    mlp = (6 if dims["gated"] else 4) * f
    per_layer = s * b * (18 * d + mlp) + 5 * a * s * s * b  # bytes with 16-bit activations
    return dims["n_layer"] * per_layer * BYTES_PER_VALUE[precision] / 2


@dataclass(frozen=True)
class MemoryEstimate:
    weights: float
    gradients: float
    optimizer: float
    activations: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations

    def gib(self) -> dict[str, float]:
        parts = dict(weights=self.weights, gradients=self.gradients, optimizer=self.optimizer,
                     activations=self.activations, total=self.total)
        return {k: v / GIB for k, v in parts.items()}


def training_memory(arch: Arch, seq_len: int | None = None, batch_size: int = 1, precision: str = "mixed") -> MemoryEstimate:
    """Bytes to train `arch` with Adam: weights, gradients, optimizer states and activations."""
    if precision not in BYTES_PER_PARAM_TRAINING:
        raise ValueError(f"precision must be one of {list(BYTES_PER_PARAM_TRAINING)}, got {precision!r}.")
    n = parameter_count(arch)
    per = BYTES_PER_PARAM_TRAINING[precision]
    seq_len = seq_len or arch_dims(arch)["context"]
    return MemoryEstimate(
        weights=n * per["weights"],
        gradients=n * per["gradients"],
        optimizer=n * per["optimizer"],
        activations=activation_bytes(arch, seq_len, batch_size, precision),
    )


def kv_cache_bytes(arch: Arch, seq_len: int, batch_size: int = 1, bytes_per_value: float = 2) -> float:
    """Keys and values of every layer for `seq_len` tokens: 2·L·n_kv_head·head_dim·T·B values."""
    dims = arch_dims(arch)
    head_dim = dims["d_model"] // dims["n_head"]
    return 2 * dims["n_layer"] * dims["n_kv_head"] * head_dim * seq_len * batch_size * bytes_per_value


def inference_memory(arch: Arch, seq_len: int | None = None, batch_size: int = 1, dtype: str = "bf16") -> dict[str, float]:
    """Bytes to generate with `arch`: weights at `dtype` plus a 16-bit KV cache."""
    seq_len = seq_len or arch_dims(arch)["context"]
    weights = parameter_count(arch) * BYTES_PER_VALUE[dtype]
    kv = kv_cache_bytes(arch, seq_len, batch_size)
    return {"weights": weights, "kv_cache": kv, "total": weights + kv}


def gpus_needed(n_bytes: float, gpu_memory_gib: float = 80) -> int:
    """The fewest accelerators of `gpu_memory_gib` that hold `n_bytes` (memory only, no overheads)."""
    return max(1, math.ceil(n_bytes / (gpu_memory_gib * GIB)))


# ---------------------------------------------------------------------------- Chinchilla

CHINCHILLA_TOKENS_PER_PARAM = 20.0
# Hoffmann et al. 2022, Approach 3 fit: L(N, D) = E + A/N^alpha + B/D^beta
CHINCHILLA_FIT = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def chinchilla_optimal(compute_flops: float, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM) -> tuple[float, float]:
    """Compute-optimal (N, D) for a budget C = 6·N·D with D = k·N: N = √(C / 6k), D = k·N."""
    n = math.sqrt(compute_flops / (6.0 * tokens_per_param))
    return n, tokens_per_param * n


def chinchilla_fit_optimal(compute_flops: float) -> tuple[float, float]:
    """(N, D) minimising `chinchilla_loss` at C = 6·N·D: N = G·(C/6)^(β/(α+β)), G = (αA/βB)^(1/(α+β)).

    Approach 3's published fit puts the optimum at more tokens per parameter than the paper's
    Approaches 1–2 (≈20); Besiroglu et al. 2024 ("Chinchilla scaling: a replication attempt") discuss why.
    """
    fit = CHINCHILLA_FIT
    a, b = fit["alpha"], fit["beta"]
    g = (a * fit["A"] / (b * fit["B"])) ** (1 / (a + b))
    n = g * (compute_flops / 6) ** (b / (a + b))
    return n, compute_flops / (6 * n)


def chinchilla_loss(n_params: float, n_tokens: float) -> float:
    """Predicted pretraining loss (nats/token on MassiveText) from the Chinchilla parametric fit."""
    fit = CHINCHILLA_FIT
    return fit["E"] + fit["A"] / n_params ** fit["alpha"] + fit["B"] / n_tokens ** fit["beta"]


# ---------------------------------------------------------------------------------- cost

# Dense (no sparsity) 16-bit tensor-core peaks from the vendor data sheets, FLOP/s per GPU.
PEAK_FLOPS = {"A100": 312e12, "H100 SXM": 989e12}


@dataclass(frozen=True)
class CostEstimate:
    flops: float
    gpu_hours: float
    usd: float

    @property
    def gpu_days(self) -> float:
        return self.gpu_hours / 24


def training_cost(flops: float, *, peak_flops: float = PEAK_FLOPS["A100"], mfu: float = 0.4,
                  usd_per_gpu_hour: float = 2.0) -> CostEstimate:
    """FLOPs → GPU-hours at a model FLOPs utilisation `mfu` of `peak_flops` → money.

    `usd_per_gpu_hour` is an assumption the caller states (cloud prices vary several-fold).
    """
    if not 0 < mfu <= 1:
        raise ValueError(f"mfu is a fraction of peak in (0, 1], got {mfu}.")
    gpu_hours = flops / (peak_flops * mfu) / 3600
    return CostEstimate(flops=flops, gpu_hours=gpu_hours, usd=gpu_hours * usd_per_gpu_hour)


def human(n: float, unit: str = "") -> str:
    """1.2346e11 → '123.5B' (K, M, B, T)."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.1f}{suffix}{unit}"
    return f"{n:.0f}{unit}"

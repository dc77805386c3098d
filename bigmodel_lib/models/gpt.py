"""A GPT (decoder-only Transformer) in the style of nanoGPT, with GPT-2's parameter names.

    config = GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128)
    model = GPT(config)
    logits, loss = model(idx, targets)          # idx, targets: (B, T) token ids
    out = model.generate(idx, 100, temperature=0.8, top_k=40, use_kv_cache=True)

Parameter names follow the published GPT-2 checkpoint: `transformer.wte`, `transformer.wpe`,
`transformer.h.N.ln_1`, `.attn.c_attn`, `.attn.c_proj`, `.ln_2`, `.mlp.c_fc`, `.mlp.c_proj`,
`transformer.ln_f`, `lm_head` (tied to `wte`). GPT-2 stores its Linear weights as Conv1D,
i.e. transposed: load them with `.t()`.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .attention import KVCache, LayerKVCache, LayerNorm, MultiHeadSelfAttention, gelu_exact, gelu_tanh


@dataclass(frozen=True)
class GPTConfig:
    """A GPT's sizes; the defaults are GPT-2 small's (124M parameters)."""

    block_size: int = 1024  # longest context (positions in wpe)
    vocab_size: int = 50304  # GPT-2's 50257 padded to a multiple of 64
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True  # biases in Linear and LayerNorm, like GPT-2
    gelu_approximate: str = "tanh"  # GPT-2's tanh GELU; "none": the exact x·Φ(x) (nanoGPT's nn.GELU)

    def __post_init__(self) -> None:
        # sizes first, so a zero n_head is reported as such rather than as a ZeroDivisionError
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"GPTConfig.{name} must be a positive whole number, got {value!r}.")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig.n_embd={self.n_embd} must be divisible by n_head={self.n_head}; "
                             "pick n_head among the divisors of n_embd.")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, numbers.Real) or not 0 <= self.dropout < 1:
            raise ValueError(f"GPTConfig.dropout must be a number in [0, 1), got {self.dropout!r}.")
        if self.gelu_approximate not in ("tanh", "none"):
            raise ValueError(f"GPTConfig.gelu_approximate must be 'tanh' or 'none' (exact), got {self.gelu_approximate!r}.")


class MLP(nn.Module):
    """Position-wise feed-forward: C -> 4C -> GELU -> C."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)
        self.approximate = config.gelu_approximate
        self.fused = True  # PyTorch's one-kernel GELU; False: our formula, written out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c_fc(x)  # (B, T, 4C)
        if self.fused:
            h = F.gelu(h, approximate=self.approximate)
        else:
            h = gelu_tanh(h) if self.approximate == "tanh" else gelu_exact(h)
        return self.dropout(self.c_proj(h))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = MultiHeadSelfAttention(config.n_embd, config.n_head, config.dropout, config.bias, causal=True)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: LayerKVCache | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache)  # (B, T, C) residual path
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Token + position embeddings, `n_layer` blocks, a final LayerNorm and a tied output layer."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),  # token embeddings (V, C)
                wpe=nn.Embedding(config.block_size, config.n_embd),  # position embeddings (T, C)
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying: one (V, C) matrix
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/√(2·n_layer) so the residual stream's
        # variance does not grow with depth.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    # ------------------------------------------------------------ sizes

    def num_parameters(self, non_embedding: bool = False) -> int:
        """Trainable parameters, the tied wte/lm_head matrix counted once.

        `non_embedding=True` leaves out the position table `wpe` (nanoGPT's convention for
        scaling laws; `wte` stays in because it is also the output layer).
        """
        n = sum(p.numel() for p in self.parameters())  # parameters() yields a tied tensor once
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def flops_per_token(self, seq_len: int | None = None) -> int:
        """Training FLOPs per token: 6N for the weights plus 12·L·C·T for attention scores.

        (Forward 2N + backward 4N per token; each layer's QKᵀ and AV add 2·2·T·C forward, times 3.)
        """
        from bigmodel_lib.sizing import flops_per_token  # absolute: this method also runs in chapter 05

        c = self.config
        t = c.block_size if seq_len is None else seq_len
        return int(flops_per_token(self.num_parameters(non_embedding=True), c.n_layer, t, c.n_embd))

    def param_groups(self, weight_decay: float) -> list[dict]:
        """AdamW groups: decay matrices (dim ≥ 2), not biases and norm weights."""
        params = [p for p in self.parameters() if p.requires_grad]
        return [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]

    # ------------------------------------------------------------ forward

    def hidden_states(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Final-layer-normed hidden states (B, T, C); positions continue after the cache."""
        B, T = idx.shape  # noqa: N806
        start = 0 if cache is None else cache.length
        if start + T > self.config.block_size:
            raise ValueError(
                f"sequence of {start + T} tokens is longer than block_size={self.config.block_size}; "
                "crop the context (generate() does this for you)"
            )
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)  # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C) + (T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if cache is None else cache.layers[i])  # (B, T, C)
        return self.transformer.ln_f(x)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx (B, T) -> logits (B, T, V) and, with targets (B, T), the mean cross-entropy.

        Targets equal to -1 are ignored (padding).
        """
        logits = self.lm_head(self.hidden_states(idx))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    # ------------------------------------------------------------ generation

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        use_kv_cache: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Extend idx (B, T) by `max_new_tokens` sampled tokens; returns (B, T + new).

        `temperature=0` is greedy decoding (argmax). `top_k` keeps the k likeliest tokens,
        `top_p` the smallest set whose probabilities sum to at least p (nucleus sampling).
        With `use_kv_cache` each step feeds only the newest token and reuses the keys and
        values of earlier ones; the tokens are the same as without the cache. When the
        context reaches block_size both paths crop it to the last block_size tokens (the
        cache is then rebuilt, since learned positions shift).

        A 1-D prompt, an empty one or `top_k < 1` is a ValueError saying what to pass instead
        (one prompt is `idx[None]`: the batch dimension is not guessed, so the output's shape
        is always the input's plus new tokens).
        """
        check_generation(idx, max_new_tokens, top_k)
        was_training = self.training
        self.eval()
        block = self.config.block_size
        cache: KVCache | None = None
        for _ in range(max_new_tokens):
            if use_kv_cache:
                if cache is None or cache.length >= block:
                    cache = KVCache(self.config.n_layer)
                    step_input = idx[:, -block:]  # (re)fill the cache with the whole context
                else:
                    step_input = idx[:, -1:]  # only the newest token
                h = self.hidden_states(step_input, cache)
            else:
                h = self.hidden_states(idx[:, -block:])
            logits = self.lm_head(h[:, -1, :])  # (B, V)
            next_id = sample_next(logits, temperature, top_k, top_p, generator)  # (B, 1)
            idx = torch.cat([idx, next_id], dim=1)
        self.train(was_training)
        return idx


def check_generation(idx: torch.Tensor, max_new_tokens: int, top_k: int | None = None) -> None:
    """One-line errors for prompts and settings `generate` cannot use (before: IndexErrors inside it)."""
    if idx.dim() != 2:
        raise ValueError(
            f"generate needs token ids shaped (batch, time), got shape {tuple(idx.shape)}: "
            "for one prompt pass idx[None] (idx.unsqueeze(0))."
        )
    if idx.shape[1] == 0:
        raise ValueError("generate needs a prompt of at least one token, got an empty one: start from e.g. a newline.")
    if idx.is_floating_point() or idx.is_complex():
        raise ValueError(f"generate needs integer token ids, got {idx.dtype}: pass idx.long().")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be at least 0, got {max_new_tokens}.")
    check_top_k(top_k)


def check_top_k(top_k: int | None) -> None:
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1 (or None for no limit), got {top_k}.")


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pick one token per row of logits (B, V) -> (B, 1)."""
    if temperature == 0.0:
        return logits.argmax(dim=-1, keepdim=True)
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    logits = logits / temperature
    check_top_k(top_k)
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        sorted_logits, order = torch.sort(logits, descending=True)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        drop = cumulative - sorted_logits.softmax(dim=-1) >= top_p  # keep the token that crosses p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)


def gpt_parameter_formula(config: GPTConfig) -> int:
    """Closed-form parameter count of `GPT(config)` (tied embeddings counted once).

    V·C + T·C + L·(12C² + 13C) + 2C with biases; L·(12C² + 2C) + C without.
    """
    v, t, c, n_layer = config.vocab_size, config.block_size, config.n_embd, config.n_layer
    per_layer = 12 * c * c + (13 * c if config.bias else 2 * c)
    return v * c + t * c + n_layer * per_layer + (2 * c if config.bias else c)


# --- saving and loading a trained GPT -----------------------------------------------------------


SAVE_GPT_FIX = "re-save it with save_pretrained(model, folder, tokenizer) (the course's GPT: re-run chapter 07)"


def save_pretrained(model: GPT, folder, tokenizer=None) -> Path:
    """Write `folder/` whole: model.safetensors + config.json (+ tokenizer.json) + manifest.json.

    The folder replaces any previous one as a unit (`bigmodel_lib.io.model_folder_writer`): nothing of an
    earlier save survives, e.g. its tokenizer when this one has none. The tied `lm_head.weight` is stored
    once (as `transformer.wte.weight`), like GPT-2's files.
    """
    from safetensors.torch import save_file

    from ..io import model_folder_writer

    tied = model.lm_head.weight is model.transformer.wte.weight
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
             if not (tied and k == "lm_head.weight")}
    with model_folder_writer(folder) as staging:
        save_file(state, str(staging / "model.safetensors"))
        (staging / "config.json").write_text(json.dumps(asdict(model.config), indent=2), encoding="utf-8")
        if tokenizer is not None:
            tokenizer.save(staging / "tokenizer.json")
    return Path(folder)


def load_pretrained(folder, device: torch.device | str = "cpu"):
    """Rebuild a GPT saved by `save_pretrained`: (model in eval mode, its CharTokenizer or None).

    The files are checked against the folder's manifest first; a folder saved before manifests
    existed loads with a warning."""
    from ..io import ModelFolderError, read_safetensors, verify_model_folder
    from ..tokenizers.char import CharTokenizer

    folder = Path(folder)
    verify_model_folder(folder, SAVE_GPT_FIX)
    if not (folder / "model.safetensors").exists():
        raise FileNotFoundError(f"No saved GPT in {folder} (model.safetensors missing): train one and call "
                                "save_pretrained(model, folder, tokenizer) first, e.g. by running chapter 07.")
    try:
        model = gpt_from_config(json.loads((folder / "config.json").read_text(encoding="utf-8")))
        tokenizer = CharTokenizer.load(folder / "tokenizer.json") if (folder / "tokenizer.json").exists() else None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ModelFolderError(f"{folder} holds an unreadable config.json or tokenizer.json ({error}); "
                               f"{SAVE_GPT_FIX}") from None
    state = read_safetensors(folder / "model.safetensors", SAVE_GPT_FIX)
    if "lm_head.weight" not in state:  # tied: stored once
        state["lm_head.weight"] = state["transformer.wte.weight"]
    model.load_state_dict(state, strict=True)
    return model.to(device).eval(), tokenizer


def gpt_from_config(settings: dict) -> GPT:
    """A GPT, or a ModernGPT when `settings` (a saved config.json) holds the modern recipe's switches."""
    from .modern_gpt import ModernGPT, ModernGPTConfig

    if "position" in settings:
        return ModernGPT(ModernGPTConfig(**settings))
    return GPT(GPTConfig(**settings))

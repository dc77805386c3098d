"""A BERT encoder written from scratch, loading the real all-MiniLM-L6-v2 weights.

nanoGPT style: a frozen config dataclass, one module per idea, shape comments. Parameter
names are short (`tok_emb`, `layers.0.attn.query`, `layers.0.mlp.fc`, ...) and
`hf_to_ours()` maps every tensor of the published checkpoint onto them, one rule per line.
The q/k/v projections are `nn.Linear` modules named `query`, `key`, `value` (as in the
published checkpoint), so LoRA can target them by name.

    model, tokenizer = load_minilm()
    ids, mask = tokenize(tokenizer, ["A cat sat.", "A dog ran."])
    emb = model.encode(ids, mask)            # (2, 384) mean-pooled sentence embeddings

Notation: B batch, T tokens, C = n_embd, H heads, D = C // H head size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .attention import attention, merge_heads, scaled_dot_product_attention, split_heads
from .weight_names import load_exactly, rename_by_rules


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int = 30522
    max_position: int = 512
    type_vocab_size: int = 2
    n_layer: int = 6
    n_head: int = 12
    n_embd: int = 384
    n_inner: int = 1536  # MLP hidden size (4 * n_embd)
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1
    pad_token_id: int = 0

    @classmethod
    def from_hf_json(cls, path: Path | str) -> BertConfig:
        """Read a Hugging Face `config.json` of a BERT checkpoint."""
        hf = json.loads(Path(path).read_text(encoding="utf-8"))
        if hf.get("model_type") != "bert":
            raise ValueError(f"{path} describes a {hf.get('model_type')!r} model, not 'bert'.")
        if hf.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"Only the exact (erf) GELU is implemented, not {hf['hidden_act']!r}.")
        return cls(
            vocab_size=hf["vocab_size"],
            max_position=hf["max_position_embeddings"],
            type_vocab_size=hf["type_vocab_size"],
            n_layer=hf["num_hidden_layers"],
            n_head=hf["num_attention_heads"],
            n_embd=hf["hidden_size"],
            n_inner=hf["intermediate_size"],
            layer_norm_eps=hf["layer_norm_eps"],
            dropout=hf["hidden_dropout_prob"],
            pad_token_id=hf.get("pad_token_id", 0),
        )

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class BertSelfAttention(nn.Module):
    """Bidirectional multi-head attention: every token sees every (non-padding) token."""

    def __init__(self, config: BertConfig):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd={config.n_embd} must be divisible by n_head={config.n_head}.")
        self.n_head = config.n_head
        self.query = nn.Linear(config.n_embd, config.n_embd)
        self.key = nn.Linear(config.n_embd, config.n_embd)
        self.value = nn.Linear(config.n_embd, config.n_embd)
        self.out = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout
        self.use_sdpa = True  # PyTorch's fused kernel; False: the written-out attention

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor | None = None, return_weights: bool = False):
        """x: (B, T, C); key_bias: (B, 1, 1, T) with 0 for real tokens, -inf-ish for padding.
        Returns the output (B, T, C), and the attention probabilities (B, H, T, T) when
        `return_weights` (which runs the written-out attention)."""
        q, k, v = (split_heads(f(x), self.n_head) for f in (self.query, self.key, self.value))  # (B, H, T, D)
        p = self.dropout if self.training else 0.0
        probs = None
        if return_weights:
            y, probs = scaled_dot_product_attention(q, k, v, mask=key_bias, dropout_p=p, return_weights=True)
        else:
            y = attention(q, k, v, mask=key_bias, use_sdpa=self.use_sdpa, dropout_p=p)  # (B, H, T, D)
        y = self.out(merge_heads(y))  # (B, T, C): heads side by side, then mixed
        return (y, probs) if return_weights else y


class BertMLP(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, config.n_inner)
        self.proj = nn.Linear(config.n_inner, config.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, C)
        return self.proj(F.gelu(self.fc(x)))  # exact erf GELU, as in the original BERT


class BertLayer(nn.Module):
    """Post-norm block (the original Transformer's order): x = LN(x + sublayer(x))."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attn = BertSelfAttention(config)
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps)
        self.mlp = BertMLP(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor | None = None, return_weights: bool = False):
        a = self.attn(x, key_bias, return_weights)
        a, probs = a if return_weights else (a, None)
        x = self.ln_1(x + self.dropout(a))  # (B, T, C): normalise after the residual sum
        x = self.ln_2(x + self.dropout(self.mlp(x)))  # (B, T, C)
        return (x, probs) if return_weights else x


class Bert(nn.Module):
    """The BERT encoder: embeddings -> n_layer post-norm blocks -> hidden states (B, T, C)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd, padding_idx=config.pad_token_id)
        self.pos_emb = nn.Embedding(config.max_position, config.n_embd)
        self.type_emb = nn.Embedding(config.type_vocab_size, config.n_embd)
        self.ln_emb = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(config.n_layer))
        # The pretraining pooler (dense + tanh on [CLS]); kept so every published tensor has a home.
        self.pooler = nn.Linear(config.n_embd, config.n_embd)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(
        self,
        idx: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        return_attentions: bool = False,
    ):
        """idx: (B, T) token ids; attention_mask: (B, T), 1 = real token, 0 = padding.
        Returns the last hidden states (B, T, C), plus the per-layer attention probabilities
        [(B, H, T, T)] * n_layer when `return_attentions`."""
        B, T = idx.shape
        if T > self.config.max_position:
            raise ValueError(f"Sequence of {T} tokens is longer than max_position={self.config.max_position}.")
        pos = torch.arange(T, device=idx.device)  # (T,)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(idx)
        x = self.tok_emb(idx) + self.pos_emb(pos) + self.type_emb(token_type_ids)  # (B, T, C)
        x = self.dropout(self.ln_emb(x))
        key_bias = None
        if attention_mask is not None:
            # Padding keys get the most negative float: softmax gives them exactly 0 weight.
            blocked = attention_mask[:, None, None, :] == 0  # (B, 1, 1, T)
            key_bias = torch.zeros(blocked.shape, dtype=x.dtype, device=x.device)
            key_bias = key_bias.masked_fill(blocked, torch.finfo(x.dtype).min)
        attentions = []
        for layer in self.layers:
            if return_attentions:
                x, probs = layer(x, key_bias, return_weights=True)
                attentions.append(probs)
            else:
                x = layer(x, key_bias)
        return (x, attentions) if return_attentions else x

    def encode(self, idx: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Sentence embeddings (B, C): hidden states mean-pooled over the real tokens."""
        if attention_mask is None:
            attention_mask = torch.ones_like(idx)
        return mean_pool(self(idx, attention_mask), attention_mask)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the hidden states (B, T, C) over the real tokens (mask (B, T), 1 = real) -> (B, C).

    Padding positions have mask 0 and drop out of both the sum and the count; this is
    sentence-transformers' pooling for all-MiniLM-L6-v2.
    """
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


class BertClassifier(nn.Module):
    """A sentence classifier: mean-pooled BERT embedding -> dropout -> linear head.
    `bert` is shared, not copied; fine-tune it all, freeze it, or add LoRA to its
    `query`/`key`/`value` projections."""

    def __init__(self, bert: Bert, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(bert.config.n_embd, n_classes)

    def forward(self, idx: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.dropout(self.bert.encode(idx, attention_mask)))  # (B, n_classes)


# --- the published checkpoint -> our names --------------------------------------------------

# One rule per kind of tensor: (published name pattern, our name). Applied with re.fullmatch.
HF_NAME_RULES: list[tuple[str, str]] = [
    (r"embeddings\.word_embeddings\.weight", r"tok_emb.weight"),
    (r"embeddings\.position_embeddings\.weight", r"pos_emb.weight"),
    (r"embeddings\.token_type_embeddings\.weight", r"type_emb.weight"),
    (r"embeddings\.LayerNorm\.(weight|bias)", r"ln_emb.\1"),
    (r"encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.(weight|bias)", r"layers.\1.attn.\2.\3"),
    (r"encoder\.layer\.(\d+)\.attention\.output\.dense\.(weight|bias)", r"layers.\1.attn.out.\2"),
    (r"encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.(weight|bias)", r"layers.\1.ln_1.\2"),
    (r"encoder\.layer\.(\d+)\.intermediate\.dense\.(weight|bias)", r"layers.\1.mlp.fc.\2"),
    (r"encoder\.layer\.(\d+)\.output\.dense\.(weight|bias)", r"layers.\1.mlp.proj.\2"),
    (r"encoder\.layer\.(\d+)\.output\.LayerNorm\.(weight|bias)", r"layers.\1.ln_2.\2"),
    (r"pooler\.dense\.(weight|bias)", r"pooler.\1"),
]
# Published tensors that are not weights (a constant buffer of 0..511).
HF_IGNORED = {"embeddings.position_ids"}


def hf_to_ours(name: str) -> str:
    """Our parameter name for a published BERT tensor name (strips a leading `bert.`)."""
    return rename_by_rules(name.removeprefix("bert."), HF_NAME_RULES)


def load_hf_state_dict(model: Bert, state: dict[str, torch.Tensor]) -> Bert:
    """Copy a published BERT state dict into `model`; every tensor must find a home."""
    ours = {}
    for name, tensor in state.items():
        if name.removeprefix("bert.") in HF_IGNORED:
            continue
        ours[hf_to_ours(name)] = tensor
    return load_exactly(model, ours)


def minilm_files() -> tuple[Path, Path, Path]:
    """(model.safetensors, config.json, tokenizer.json) of the packaged all-MiniLM-L6-v2."""
    from ..data import minilm_dir

    folder = minilm_dir()
    return folder / "model.safetensors", folder / "config.json", folder / "tokenizer.json"


def load_tokenizer(max_length: int = 512):
    """MiniLM's real WordPiece tokenizer (`tokenizers.Tokenizer`), padding to the longest
    sequence of a batch and truncating to `max_length` tokens."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(minilm_files()[2]))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    tok.enable_truncation(max_length=max_length)
    return tok


def tokenize(tokenizer, texts: list[str] | str, device: torch.device | str | None = None):
    """Token ids (B, T) and attention mask (B, T) for a batch of texts, as int64 tensors."""
    if isinstance(texts, str):
        texts = [texts]
    encodings = tokenizer.encode_batch(list(texts))
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long, device=device)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long, device=device)
    return ids, mask


def load_minilm(device: torch.device | str | None = None, max_length: int = 512):
    """Our `Bert` with the real all-MiniLM-L6-v2 weights (eval mode) and its tokenizer."""
    from safetensors.torch import load_file

    weights, config_json, _ = minilm_files()
    model = Bert(BertConfig.from_hf_json(config_json))
    load_hf_state_dict(model, load_file(str(weights)))
    model.eval()
    if device is not None:
        model.to(device)
    return model, load_tokenizer(max_length)

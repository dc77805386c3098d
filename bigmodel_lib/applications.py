"""Small, real applications for chapter 10, built on what the course's library already has.

- `train_char_gpt`: a character-level GPT (`models.gpt.GPT`) trained briefly on a text with a
  plain AdamW loop, and `char_lm_loss` to evaluate it.
- `encode_sentences`: MiniLM sentence embeddings (mean pooling); uses chapter 02's
  `models.sentence_embeddings` when it is installed, else the same recipe here.
- `MiniLMClassifier` + `finetune_classifier` + `classify`: MiniLM fine-tuned end to end for a
  text classification task (mean pooling → linear head).
- `scrub_pii_all`: chapter 04's PII scrubber (`data.text`) when present, else a small fallback.
- `smollm2_chat`: the real SmolLM2-135M-Instruct answering a chat prompt.

The fallbacks exist only so this chapter runs before chapters 02/04/05b/07 land; each is
marked and the chapter prints which implementation it used.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .models.gpt import GPT, GPTConfig

# ------------------------------------------------------------------ character-level GPT


@dataclass
class CharVocab:
    """One id per distinct character (sorted), as nanoGPT's Shakespeare example."""

    chars: list[str]

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls(sorted(set(text)))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def random_batch(ids: torch.Tensor, block_size: int, batch_size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows of a 1-D token tensor: inputs (B, T) and next-token targets (B, T)."""
    starts = torch.randint(len(ids) - block_size - 1, (batch_size,), generator=gen)
    x = torch.stack([ids[s:s + block_size] for s in starts])
    y = torch.stack([ids[s + 1:s + block_size + 1] for s in starts])
    return x, y


def train_char_gpt(train_ids: torch.Tensor, config: GPTConfig, steps: int, batch_size: int = 32, lr: float = 1e-3,
                   device: torch.device | str = "cpu", seed: int = 0, progress: bool = True,
                   warmup: int = 20) -> tuple[GPT, list[float]]:
    """Train `GPT(config)` on random windows of `train_ids` with AdamW and a linear warm-up then
    cosine decay; returns the model (eval mode) and the loss of every step."""
    import math

    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model = GPT(config).to(device)
    opt = torch.optim.AdamW(model.param_groups(0.1), lr=lr, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(seed)
    losses = []
    bar = tqdm(range(steps), desc="training GPT", disable=not progress, mininterval=1.0)
    for step in bar:
        scale = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / max(1, steps)))
        for group in opt.param_groups:
            group["lr"] = lr * max(scale, 0.1)
        x, y = random_batch(train_ids, config.block_size, batch_size, gen)
        _, loss = model(x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval(), losses


@torch.no_grad()
def char_lm_loss(model: GPT, ids: torch.Tensor, n_batches: int = 10, batch_size: int = 32, seed: int = 1) -> float:
    """Mean next-token cross-entropy (nats) of `model` on random windows of `ids`."""
    gen = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    model.eval()
    total = 0.0
    for _ in range(n_batches):
        x, y = random_batch(ids, model.config.block_size, batch_size, gen)
        total += model(x.to(device), y.to(device))[1].item()
    return total / n_batches


# ------------------------------------------------------------------ MiniLM embeddings and classifier

MINILM_MAX_LENGTH = 256


@lru_cache(maxsize=2)
def load_minilm_parts(device_name: str = "cpu"):
    """MiniLM's tokenizer and encoder (`transformers.AutoModel`), cached per process."""
    from transformers import AutoModel, AutoTokenizer

    from .data import minilm_dir

    folder = minilm_dir()
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).to(device_name).eval()


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, T, C), (B, T) → (B, C): the mean of the real (unpadded) token vectors."""
    m = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def encode_sentences(texts: Sequence[str], batch_size: int = 32, device=None, max_length: int = MINILM_MAX_LENGTH,
                     progress: bool = True) -> np.ndarray:
    """L2-normalised MiniLM embeddings (N, 384) of `texts`: chapter 02's function if present."""
    try:
        from .models.sentence_embeddings import encode_sentences as chapter02
    except ImportError:
        chapter02 = None
    if chapter02 is not None:
        return chapter02(texts, batch_size=batch_size, device=device, max_length=max_length, progress=progress)
    from tqdm.auto import tqdm

    tokenizer, model = load_minilm_parts(str(device or "cpu"))
    texts = list(texts)
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths together: less padding
    batches = [order[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    with torch.inference_mode():
        for index in tqdm(batches, desc="MiniLM embeddings", disable=not progress):
            batch = tokenizer([texts[i] for i in index], padding=True, truncation=True, max_length=max_length,
                              return_tensors="pt").to(model.device)
            pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])  # (B, 384)
            out[index] = torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()
    return out


def embeddings_source() -> str:
    """Which implementation `encode_sentences` uses."""
    try:
        from .models import sentence_embeddings  # noqa: F401
    except ImportError:
        return "bigmodel_lib.applications (fallback until chapter 02's module lands)"
    return "bigmodel_lib.models.sentence_embeddings (chapter 02)"


class MiniLMClassifier(nn.Module):
    """The pretrained MiniLM encoder, mean pooling, dropout and a linear head to `n_classes`."""

    def __init__(self, n_classes: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        from transformers import AutoModel

        from .data import minilm_dir

        self.encoder = AutoModel.from_pretrained(minilm_dir())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, n_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, C)
        return self.head(self.dropout(mean_pool(hidden, attention_mask)))  # (B, n_classes)


def _tokenize(texts: Sequence[str], max_length: int):
    tokenizer, _ = load_minilm_parts("cpu")
    return tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def finetune_classifier(model: MiniLMClassifier, texts: Sequence[str], labels: Sequence[int], steps: int,
                        batch_size: int = 16, lr: float = 5e-5, max_length: int = 64, device="cpu", seed: int = 0,
                        progress: bool = True) -> list[float]:
    """Fine-tune every weight with AdamW on random batches; returns the loss of every step."""
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(seed)
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    head_params = list(model.head.parameters())
    body = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": head_params, "lr": lr * 20}], weight_decay=0.01)
    model.to(device).train()
    losses = []
    for _ in tqdm(range(steps), desc="fine-tuning MiniLM", disable=not progress, mininterval=1.0):
        idx = torch.randint(len(texts), (batch_size,), generator=gen)
        batch = _tokenize([texts[i] for i in idx], max_length).to(device)
        loss = nn.functional.cross_entropy(model(batch["input_ids"], batch["attention_mask"]), labels_t[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def classify(model: nn.Module, texts: Sequence[str], batch_size: int = 64, max_length: int = 64, device="cpu") -> np.ndarray:
    """Predicted class of each text (N,), batch by batch in eval mode."""
    model.to(device).eval()
    preds = []
    for i in range(0, len(texts), batch_size):
        batch = _tokenize(texts[i:i + batch_size], max_length).to(device)
        preds.append(model(batch["input_ids"], batch["attention_mask"]).argmax(-1).cpu().numpy())
    return np.concatenate(preds)


# ------------------------------------------------------------------ PII

_FALLBACK_PII = {
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[a-z]{2,6}\b"),
    "url": re.compile(r"\bhttps?://\S+|\bwww\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|co\.uk)\b(?:/\S*)?", re.I),
    "phone": re.compile(r"(?<![\w£$.])\+?\d(?:[ -]?\d){9,12}(?![\w.]?\d)"),
}


def scrub_pii_all(texts: Sequence[str]) -> tuple[list[str], Counter]:
    """Replace e-mails, URLs and phone numbers by <EMAIL>, <URL>, <PHONE>: chapter 04's scrubber if
    present (`data.text.scrub_pii_all`), else the same three patterns here."""
    try:
        from .data.text import scrub_pii_all as chapter04
    except ImportError:
        chapter04 = None
    if chapter04 is not None:
        return chapter04(texts)
    total: Counter = Counter({name: 0 for name in _FALLBACK_PII})
    out = []
    for text in texts:
        for name, pattern in _FALLBACK_PII.items():
            text, n = pattern.subn(f"<{name.upper()}>", text)
            total[name] += n
        out.append(text)
    return out, total


# ------------------------------------------------------------------ SmolLM2


def load_smollm2_gguf(dtype: torch.dtype = torch.float32):
    """SmolLM2-135M-Instruct from its 4-bit GGUF through transformers (de-quantised to `dtype`)
    and its tokenizer. Chapter 05b's `models.pretrained.load_smollm2_reference` caches this."""
    try:
        from .models.pretrained import load_smollm2_reference
    except ImportError:
        load_smollm2_reference = None
    if load_smollm2_reference is not None:
        model, tokenizer = load_smollm2_reference()
        return model.to(dtype), tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .data import smollm2_gguf

    path = smollm2_gguf()
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=dtype).eval()
    return model, AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


@torch.no_grad()
def smollm2_chat(model, tokenizer, prompt: str, max_new_tokens: int = 48) -> str:
    """Greedy answer of the instruct model to one user message (its chat template applied)."""
    messages = [{"role": "user", "content": prompt}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids = {k: v.to(model.device) for k, v in ids.items()}
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()

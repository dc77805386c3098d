"""Small, real applications for chapter 10, built on what the course's library already has.

- `MiniLMClassifier` + `finetune_classifier` + `classify`: the pretrained MiniLM encoder
  fine-tuned end to end for text classification (mean pooling → linear head), small enough
  to fine-tune on a CPU in a couple of minutes and to quantise with PyTorch's dynamic int8.
- `smollm2_chat`: the real SmolLM2-135M-Instruct answering one chat message greedily.

Everything else chapter 10 needs comes from the library: `models.gpt` + `training.trainer`
(the small Shakespeare GPT), `models.sentence_embeddings` (search), `data.text` (PII),
`models.pretrained` (SmolLM2), `data.audio` / `models.audio_cnn` (speech).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .models.sentence_embeddings import load_minilm, mean_pool

# ------------------------------------------------------------------ MiniLM classifier


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
    tokenizer, _ = load_minilm("cpu")
    return tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def finetune_classifier(model: MiniLMClassifier, texts: Sequence[str], labels: Sequence[int], steps: int,
                        batch_size: int = 16, lr: float = 1e-4, max_length: int = 64, device="cpu", seed: int = 0,
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


# ------------------------------------------------------------------ SmolLM2


@torch.no_grad()
def smollm2_chat(model, tokenizer, prompt: str, max_new_tokens: int = 48) -> str:
    """Greedy answer of the instruct model to one user message (its chat template applied)."""
    messages = [{"role": "user", "content": prompt}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids = {k: v.to(model.device) for k, v in ids.items()}
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()

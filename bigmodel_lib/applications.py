"""Small helpers for chapter 10's applications that no other module provides.

- `smollm2_chat`: the real SmolLM2-135M-Instruct answering one chat message greedily.

Everything else chapter 10 uses comes from the modules that earlier chapters built:
`training.course_gpt` (chapter 07's GPT), `finetuning.classify` (chapter 08's spam classifier:
`load_classifier`, `predict`), `models.vision` + `models.fitting` (chapter 05's CNN),
`models.sentence_embeddings` (search), `data.text` (PII), `models.pretrained` (SmolLM2),
`data.audio` / `models.audio_cnn` (speech), `quantization` and `sizing` (the challenges).
"""

from __future__ import annotations

import torch


@torch.no_grad()
def smollm2_chat(model, tokenizer, prompt: str, max_new_tokens: int = 48) -> str:
    """Greedy answer of the instruct model to one user message (its chat template applied)."""
    messages = [{"role": "user", "content": prompt}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids = {k: v.to(model.device) for k, v in ids.items()}
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()

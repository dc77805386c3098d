"""The course's own pretrained GPT: chapter 07's character-level Shakespeare model, reused later.

Chapter 07 trains nanoGPT's CPU recipe and a modern recipe, and saves the better model with `save_course_gpt` to
`<results dir>/models/07_shakespeare_gpt/`. Later chapters (fine-tuning in 08, generation and the
memorisation test in 10) call `course_gpt()`, which loads that folder; when chapter 07 has not run
into this results folder (a smoke run, a learner starting at chapter 08) it trains the same recipe
for `fallback_steps` steps instead and says so.

    gpt, char_tok, source = course_gpt(device, fallback_steps=300)
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from ..models.gpt import GPT, GPTConfig, load_pretrained, save_pretrained
from ..models.modern_gpt import GPT2_LAYOUT, ModernGPT, ModernGPTConfig
from ..results import results_dir
from ..tokenizers.char import CharTokenizer

COURSE_GPT_NAME = "07_shakespeare_gpt"


def course_gpt_dir() -> Path:
    return results_dir() / "models" / COURSE_GPT_NAME


def recipe_config(vocab_size: int) -> GPTConfig:
    """nanoGPT's CPU recipe: 4 layers, 4 heads, 128 dimensions, context 64, no dropout, no biases, exact GELU."""
    return GPTConfig(block_size=64, vocab_size=vocab_size, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False,
                     gelu_approximate="none")


# The switches benchmarks/recipe_ablation.py kept, each because it lowered the best validation loss reached in
# the same training time (its table: benchmarks/results/recipe_ablation_cpu.txt).
MODERN_SWITCHES = dict(position="rope", norm="rmsnorm", mlp="swiglu", bias=True)  # QK-norm and an untied head did not
MODERN_TRAINING = dict(optimizer="muon")  # a doubled rate, decay to 0 and a batch of 24 did not


def modern_recipe_config(vocab_size: int) -> ModernGPTConfig:
    """Chapter 07's modern recipe: the nanoGPT recipe's sizes with the kept switches (`MODERN_SWITCHES`)."""
    return ModernGPTConfig(**{**asdict(recipe_config(vocab_size)), **GPT2_LAYOUT, **MODERN_SWITCHES})


def modern_recipe_train_config(steps: int, **overrides):
    """The nanoGPT recipe's optimiser settings with the kept training changes (`MODERN_TRAINING`)."""
    return recipe_train_config(steps, **{**MODERN_TRAINING, **overrides})


def recipe_train_config(steps: int, **overrides):
    """nanoGPT's CPU-recipe optimiser settings (chapter 07) for `steps` steps of 12×64 tokens."""
    from .trainer import TrainConfig

    settings = dict(max_steps=steps, batch_size=12, lr=2e-3, min_lr_ratio=0.1, warmup_steps=min(100, steps // 10),
                    betas=(0.9, 0.99), weight_decay=0.1, grad_clip=1.0)
    return TrainConfig(**{**settings, **overrides})


def save_course_gpt(model: GPT, tokenizer: CharTokenizer) -> Path:
    return save_pretrained(model, course_gpt_dir(), tokenizer)


def course_gpt(device: torch.device | str = "cpu", fallback_steps: int = 300, seed: int = 0,
               progress: bool = True) -> tuple[GPT, CharTokenizer, str]:
    """(model, tokenizer, where it came from): chapter 07's saved GPT, or one trained now."""
    folder = course_gpt_dir()
    if (folder / "model.safetensors").exists():
        model, tokenizer = load_pretrained(folder, device)
        return model, tokenizer, f"chapter 07's model ({folder})"
    return (*train_recipe_gpt(device, fallback_steps, seed, progress), f"trained now: {fallback_steps} steps "
            f"(chapter 07's model was not found in {folder})")


def train_recipe_gpt(device: torch.device | str, steps: int, seed: int = 0,
                     progress: bool = True) -> tuple[GPT, CharTokenizer]:
    """Chapter 07's model (the modern recipe) trained on Tiny Shakespeare's characters for `steps` steps."""
    from .trainer import Trainer

    tokenizer, data = shakespeare_windows(device, seed)
    torch.manual_seed(seed)
    model = ModernGPT(modern_recipe_config(tokenizer.vocab_size))
    config = modern_recipe_train_config(steps, eval_every=0, eval_batches=2, progress=progress,
                                        desc="course GPT (fallback)")
    Trainer(model, data, config, device=device).fit()
    return model.eval(), tokenizer


def shakespeare_windows(device: torch.device | str = "cpu", seed: int = 0, block_size: int = 64):
    """(CharTokenizer, TokenWindows): the recipe's data — Tiny Shakespeare's characters, 90 % / 10 % split."""
    from ..data import load_tiny_shakespeare
    from .batches import TokenWindows, split_tokens

    text = load_tiny_shakespeare()
    tokenizer = CharTokenizer.train(text)
    train_ids, val_ids = split_tokens(torch.tensor(tokenizer.encode(text)))
    return tokenizer, TokenWindows(train_ids, val_ids, block_size, seed=seed, device=device)

"""Concept diagram of chapter 07 (one training step), one SVG per language (run from anywhere):

    python chapters/figures/make_figures_07.py

Deterministic (fixed svg.hashsalt, no date in the metadata); text stays text, so a browser draws it
with its own fonts, CJK included. Helpers are chapters 03-04's.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_figures_03_04 as base  # noqa: E402

plt = base.plt

TEXT = {
    "en": {
        "micro": "micro-batch i\n(x, y): b × T tokens",
        "forward": "forward\n(under autocast:\nbf16 matmuls)",
        "loss": "loss / k",
        "backward": "backward\n(gradients add up\nin p.grad)",
        "repeat": "repeat for i = 1 … k  (k = grad_accum): the sum is the gradient of the mean loss of k·b sequences",
        "clip": "clip: if ‖g‖ > c,\ng ← g · c / ‖g‖",
        "adamw": "AdamW step\nat the rate lr(t)",
        "zero": "zero the\ngradients",
        "schedule": "schedule:\nt ← t + 1",
        "out": "returns loss and ‖g‖\nas device tensors\n(no host sync)",
    },
    "zh": {
        "micro": "第 i 个微批次\n(x, y)：b × T 个词元",
        "forward": "前向传播\n（autocast 下：\nbf16 矩阵乘法）",
        "loss": "损失 / k",
        "backward": "反向传播\n（梯度在 p.grad\n中累加）",
        "repeat": "对 i = 1 … k 重复（k = grad_accum）：累加的梯度就是 k·b 条序列平均损失的梯度",
        "clip": "裁剪：若 ‖g‖ > c，\ng ← g · c / ‖g‖",
        "adamw": "AdamW 更新\n学习率 lr(t)",
        "zero": "梯度清零",
        "schedule": "调度器：\nt ← t + 1",
        "out": "返回损失与 ‖g‖\n（设备上的张量，\n不做主机同步）",
    },
}


def train_step(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(13, 4.6))
    ax.set(xlim=(0, 13.2), ylim=(0, 4.6))
    ax.axis("off")
    top, step = 3.6, 2.6
    row = [("micro", "#fdebd0"), ("forward", "#dbe9f6"), ("loss", "#dbe9f6"), ("backward", "#dbe9f6")]
    for i, (key, color) in enumerate(row):
        base._box(ax, (1.2 + step * i, top), t[key], width=2.2, height=1.1, color=color)
        if i:
            base._arrow(ax, (1.2 + step * (i - 1) + 1.12, top), (1.2 + step * i - 1.12, top))
    base._arrow(ax, (1.2 + 3 * step, top - 0.57), (1.2, top - 0.57), color="#c0392b", linestyle="--",
                connectionstyle="arc3,rad=-0.25")
    ax.text(6.6, 2.45, t["repeat"], ha="center", va="center", color="#c0392b", fontsize=9.5)
    bottom = 1.0
    row2 = [("clip", "#f9dede"), ("adamw", "#dbe9f6"), ("zero", "#dbe9f6"), ("schedule", "#dbe9f6"), ("out", "#e8f6e8")]
    step2 = 2.6
    for i, (key, color) in enumerate(row2):
        base._box(ax, (1.2 + step2 * i, bottom), t[key], width=2.2, height=1.1, color=color)
        if i:
            base._arrow(ax, (1.2 + step2 * (i - 1) + 1.12, bottom), (1.2 + step2 * i - 1.12, bottom))
    base._arrow(ax, (1.2 + 3 * step, top - 0.57), (1.2 + 0.4, bottom + 0.57), connectionstyle="arc3,rad=0.0")
    return base._save(fig, f"07_train_step.{lang}.svg")


def main() -> None:
    base.write_all((train_step,), "bigmodel-course-07")


if __name__ == "__main__":
    main()

"""Concept diagrams of chapter 07 (one training step; a modern small-model recipe, one switch at a
time), one SVG per language (run from anywhere):

    python chapters/figures/make_figures_07.py

Deterministic (fixed svg.hashsalt, no date in the metadata); text stays text, so a browser draws it
with its own fonts, CJK included. Helpers are chapters 03-04's.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_figures_03_04 as base  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

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
        "gpt": "nanoGPT (chapter 05)",
        "recipe": "a modern small-model recipe, one switch at a time",
        "emb": "token embedding wte\n+ learned position table wpe",
        "ln": "LayerNorm", "attn": "causal self-attention", "add": "+ residual",
        "mlp": "MLP\nLinear C→4C → GELU → Linear 4C→C",
        "ln_f": "final LayerNorm", "head": "output layer = wte (tied)", "opt": "training: AdamW",
        "blocks": "× N blocks",
        "sw1": "position: learned table wpe → rotary positions (RoPE),\napplied to q and k inside attention",
        "sw2": "norms: LayerNorm → RMSNorm\n(no mean subtraction, no bias: a gain only)",
        "sw3": "MLP: GELU MLP → SwiGLU\nsilu(gate) · up, then down",
        "sw4": "attention: + QK-norm\nRMS-normalise q and k per head\nbefore the dot product",
        "sw5": "output layer: tied to the embedding\n→ its own matrix (untied)",
        "sw6": "biases: nanoGPT's recipe has none\n→ GPT-2's biases back in every Linear and norm",
        "sw7": "optimizer: AdamW → Muon for the blocks' matrices\n(momentum orthogonalised by Newton–Schulz);\n"
               "AdamW stays for the embeddings,\nthe output layer and the gains",
        "keep": "each switch is kept only if it lowers the best validation loss in the same training time",
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
        "gpt": "nanoGPT（第 05 章）",
        "recipe": "现代小模型配方：一次只拨一个开关",
        "emb": "词元嵌入 wte\n+ 可学习位置表 wpe",
        "ln": "层归一化 LayerNorm", "attn": "因果自注意力", "add": "+ 残差",
        "mlp": "MLP\n线性层 C→4C → GELU → 线性层 4C→C",
        "ln_f": "最终层归一化 LayerNorm", "head": "输出层 = wte（共享权重）", "opt": "训练：AdamW 优化器",
        "blocks": "× N 个块",
        "sw1": "位置：可学习位置表 wpe → 旋转位置编码 RoPE，\n在注意力内部作用于 q 和 k",
        "sw2": "归一化：LayerNorm → 均方根归一化 RMSNorm\n（不减均值、没有偏置，只有增益）",
        "sw3": "MLP：GELU MLP → SwiGLU\nsilu(gate) · up，再经 down 投影回去",
        "sw4": "注意力：加上查询/键归一化 QK-norm\n点积之前，先对每个头的 q 和 k\n做 RMS 归一化",
        "sw5": "输出层：与词元嵌入共享 →\n输出层不共享权重，用自己的矩阵",
        "sw6": "偏置：nanoGPT 的配方没有偏置\n→ 像 GPT-2 那样给每个线性层和归一化加回偏置",
        "sw7": "优化器：AdamW → Muon 优化器，用于各块的矩阵\n（动量经 Newton–Schulz 迭代正交化）；\n"
               "嵌入、输出层和增益\n仍用 AdamW",
        "keep": "每个开关只有在相同训练时间内降低了最佳验证损失时才保留",
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


SAME, SWITCHED = "#dbe9f6", "#fde2c4"  # chapter 05b's "as in GPT-2" / "differs" colours


def _badge(ax, xy, number: int) -> None:
    """A numbered switch marker: the same number on a part of the stack and on its switch."""
    ax.add_patch(plt.Circle(xy, 0.17, fc="#f5b041", ec="#34495e", lw=1.2))
    ax.text(*xy, str(number), ha="center", va="center", fontsize=9, weight="bold")


def modern_recipe(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(12.6, 9.4))
    ax.set(xlim=(0, 12.6), ylim=(0, 9.4))
    ax.axis("off")
    # Left: nanoGPT's stack, bottom to top: (key, height, switch numbers); height 0.3 = a residual sum.
    x, width, gap = 2.4, 3.9, 0.26
    rows = [("emb", 0.7, (1,)), ("ln", 0.5, (2,)), ("attn", 0.7, (1, 4)), ("add", 0.3, ()), ("ln", 0.5, (2,)),
            ("mlp", 0.7, (3,)), ("add", 0.3, ()), ("ln_f", 0.5, (2,)), ("head", 0.5, (5,))]
    y, spans = 1.75, []
    for i, (key, height, switches) in enumerate(rows):
        mid = y + height / 2
        if key == "add":
            ax.text(x, mid, t["add"], ha="center", va="center", fontsize=9, color="#34495e")
        else:
            base._box(ax, (x, mid), t[key], width=width, height=height, color=SAME)
        for j, number in enumerate(switches):
            _badge(ax, (x + width / 2 + 0.35 + 0.4 * j, mid), number)
        if i:
            base._arrow(ax, (x, y - gap + 0.05), (x, y - 0.05))
        spans.append((y, y + height))
        y += height + gap
    ax.text(x, y + 0.05, t["gpt"], ha="center", va="bottom", fontsize=12, weight="bold")
    low, high = spans[1][0] - 0.14, spans[6][1] + 0.1  # one block: ln_1 … second residual sum
    ax.add_patch(FancyBboxPatch((0.2, low), 5.2, high - low, boxstyle="round,pad=0.02", fc="none", ec="#7f8c8d",
                                ls="--", lw=0.8))
    ax.text(0.28, high - 0.04, t["blocks"], ha="left", va="top", fontsize=8.5, color="#7f8c8d")
    _badge(ax, (5.4, high), 6)
    base._box(ax, (x, 1.1), t["opt"], width=width, height=0.5, color="#e8f6e8")
    _badge(ax, (x + width / 2 + 0.35, 1.1), 7)
    # Right: the switches 1-7, spread from the title line down to the optimizer's row.
    heights = [0.62, 0.62, 0.62, 0.8, 0.62, 0.62, 1.0]
    top, bottom = y - 0.3, 0.85
    step = (top - bottom - sum(heights)) / (len(heights) - 1)
    ax.text(9.4, y + 0.05, t["recipe"], ha="center", va="bottom", fontsize=12, weight="bold")
    for number, height in enumerate(heights, start=1):
        mid = top - height / 2
        _badge(ax, (6.15, mid), number)
        base._box(ax, (9.4, mid), t[f"sw{number}"], width=5.8, height=height, color=SWITCHED)
        top -= height + step
    ax.text(6.3, 0.3, t["keep"], ha="center", va="center", fontsize=10, color="#555555")
    return base._save(fig, f"07_modern_recipe.{lang}.svg")


def main() -> None:
    base.write_all((train_step, modern_recipe), "bigmodel-course-07")


if __name__ == "__main__":
    main()

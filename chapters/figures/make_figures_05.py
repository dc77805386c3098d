"""Concept diagrams of chapter 05 (attention, a Transformer block), one SVG per language:

    python chapters/figures/make_figures_05.py

Drawn with the helpers of `make_figures_03_04.py` (same fonts, deterministic SVG, text kept as text).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from make_figures_03_04 import _arrow, _box, _save, write_all

TEXT = {
    "en": {
        "x": "x  (B, T, C)\ntoken + position\nembeddings",
        "q": "queries\nQ = x W_q", "k": "keys\nK = x W_k", "v": "values\nV = x W_v",
        "scores": "scores\nQKᵀ / √D\n(T × T)",
        "mask": "causal mask\nfuture → −∞",
        "softmax": "softmax\nover keys\n(rows sum to 1)",
        "sum": "weighted sum\nweights · V\n(T × D)",
        "heads": "H heads side by side, each of width D = C / H;\nmerged back to (B, T, C) and mixed by c_proj",
        "in": "x  (B, T, C)",
        "ln1": "LayerNorm ln_1", "attn": "causal multi-head\nattention", "ln2": "LayerNorm ln_2",
        "mlp": "MLP\nC → 4C → GELU → C", "out": "x  (B, T, C)", "plus": "+",
        "resid": "residual path\n(nothing on it\nbut additions)",
    },
    "zh": {
        "x": "x  (B, T, C)\n词元嵌入 +\n位置嵌入",
        "q": "查询\nQ = x W_q", "k": "键\nK = x W_k", "v": "值\nV = x W_v",
        "scores": "分数\nQKᵀ / √D\n(T × T)",
        "mask": "因果掩码\n未来位置 → −∞",
        "softmax": "softmax\n沿键的方向\n（每行和为 1）",
        "sum": "加权求和\n权重 · V\n(T × D)",
        "heads": "H 个头并排计算，每个头宽 D = C / H；\n合并回 (B, T, C)，再由 c_proj 混合",
        "in": "x  (B, T, C)",
        "ln1": "层归一化 ln_1", "attn": "因果多头\n注意力", "ln2": "层归一化 ln_2",
        "mlp": "MLP\nC → 4C → GELU → C", "out": "x  (B, T, C)", "plus": "+",
        "resid": "残差通路\n（上面只有加法）",
    },
}


def attention(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(13, 4.4))
    ax.set(xlim=(0, 13.4), ylim=(0, 4.4))
    ax.axis("off")
    _box(ax, (1.0, 2.3), t["x"], width=1.8, height=1.2, color="#fdebd0")
    for y, key in ((3.6, "q"), (2.3, "k"), (1.0, "v")):
        _box(ax, (3.5, y), t[key], width=1.7, height=0.9)
        _arrow(ax, (1.9, 2.3), (2.65, y))
    steps = [("scores", 5.9), ("mask", 8.0), ("softmax", 10.1)]
    for key, x in steps:
        _box(ax, (x, 3.0), t[key], width=1.8, height=1.2, color="#f9dede" if key == "mask" else "#dbe9f6")
    _arrow(ax, (4.35, 3.6), (5.0, 3.1))
    _arrow(ax, (4.35, 2.3), (5.0, 2.9))
    _arrow(ax, (6.8, 3.0), (7.1, 3.0))
    _arrow(ax, (8.9, 3.0), (9.2, 3.0))
    _box(ax, (12.2, 1.6), t["sum"], width=1.8, height=1.2, color="#fdebd0")
    _arrow(ax, (11.0, 3.0), (12.2, 2.2), connectionstyle="arc3,rad=-0.3")
    _arrow(ax, (4.35, 1.0), (11.3, 1.4))
    ax.text(7.6, 0.35, t["heads"], ha="center", va="center", fontsize=9.5, color="#555555")
    return _save(fig, f"05_attention.{lang}.svg")


def block(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(6.4, 7.2))
    ax.set(xlim=(0, 6.4), ylim=(0, 7.2))
    ax.axis("off")
    spine = 1.2  # the residual path runs up the left
    _box(ax, (spine, 0.45), t["in"], width=1.8, height=0.6, color="#fdebd0")
    _box(ax, (spine, 6.75), t["out"], width=1.8, height=0.6, color="#fdebd0")
    for plus_y in (3.3, 6.0):
        ax.add_patch(plt.Circle((spine, plus_y), 0.22, fc="white", ec="#34495e", lw=1.4))
        ax.text(spine, plus_y, t["plus"], ha="center", va="center", fontsize=13)
    _arrow(ax, (spine, 0.75), (spine, 3.08))
    _arrow(ax, (spine, 3.52), (spine, 5.78))
    _arrow(ax, (spine, 6.22), (spine, 6.45))
    for (ln_y, f_y, plus_y, ln, f, color) in ((1.3, 2.4, 3.3, "ln1", "attn", "#dbe9f6"),
                                              (4.0, 5.1, 6.0, "ln2", "mlp", "#e8f6e8")):
        _arrow(ax, (spine, ln_y - 0.4), (3.9, ln_y - 0.2), connectionstyle="arc3,rad=0.25")
        _box(ax, (4.4, ln_y), t[ln], width=2.6, height=0.5, color="#eeeeee")
        _box(ax, (4.4, f_y), t[f], width=2.6, height=0.9, color=color)
        _arrow(ax, (4.4, ln_y + 0.25), (4.4, f_y - 0.45))
        _arrow(ax, (4.4, f_y + 0.45), (spine + 0.22, plus_y), connectionstyle="arc3,rad=0.25")
    ax.text(0.05, 4.6, t["resid"], ha="left", va="center", fontsize=8.5, color="#555555")
    return _save(fig, f"05_block.{lang}.svg")


def main() -> None:
    write_all((attention, block))


if __name__ == "__main__":
    main()

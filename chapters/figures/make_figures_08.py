"""Concept diagram of chapter 08 (LoRA), one SVG per language (run from anywhere):

    python chapters/figures/make_figures_08.py

Deterministic (chapter 03-04's fixed svg.hashsalt, no date in the metadata); text stays text (svg.fonttype "none"), so a
browser draws it with its own fonts, CJK included. Shapes are drawn to scale for MiniLM's 384×384 query
projection with rank r = 8 (the rectangles' sides are proportional to the matrices' sides, A and B widened
so that they stay visible).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_figures_03_04 import _arrow, _save, write_all  # noqa: E402  (the same fonts, text-as-text and arrows)

TEXT = {
    "en": {
        "x": "input x\n(d_in = 384)",
        "W": "W  (384 × 384)\npretrained, frozen\n147,456 numbers",
        "A": "A\n(r × 384)\ntrainable",
        "B": "B\n(384 × r)\ntrainable,\nstarts at 0",
        "scale": "× α/r",
        "y": "output y\n(d_out = 384)",
        "formula": "y = xWᵀ + (α/r)·x Aᵀ Bᵀ        r = 8: 8·(384 + 384) = 6,144 trainable numbers",
        "merge": "after training: W ← W + (α/r)·BA  (merged: no extra cost at inference)",
    },
    "zh": {
        "x": "输入 x\n（d_in = 384）",
        "W": "W（384 × 384）\n预训练权重，冻结\n147,456 个数",
        "A": "A\n（r × 384）\n可训练",
        "B": "B\n（384 × r）\n可训练，\n初始为 0",
        "scale": "× α/r",
        "y": "输出 y\n（d_out = 384）",
        "formula": "y = xWᵀ + (α/r)·x Aᵀ Bᵀ        r = 8：8·(384 + 384) = 6,144 个可训练的数",
        "merge": "训练之后：W ← W + (α/r)·BA（合并后推理不多花任何计算）",
    },
}


def _node(ax, xy, text, color):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - 0.8, y - 0.45), 1.6, 0.9, boxstyle="round,pad=0.04", fc=color,
                                ec="#34495e", lw=1.2))
    ax.text(x, y, text, ha="center", va="center")


def lora(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(11, 5.6))
    ax.set(xlim=(0, 11), ylim=(-1.6, 5.4))
    ax.axis("off")
    _node(ax, (1.0, 2.2), t["x"], "#fdebd0")
    # the frozen weight, a square to scale
    ax.add_patch(Rectangle((3.0, 2.55), 2.2, 2.2, fc="#d5d8dc", ec="#566573", lw=1.4, hatch="//"))
    ax.text(4.1, 3.65, t["W"], ha="center", va="center", bbox={"fc": "white", "ec": "none", "alpha": 0.85})
    # the adapter: a thin A (r × d_in) then a thin B (d_out × r)
    ax.add_patch(Rectangle((3.0, 0.1), 1.0, 0.5, fc="#f5b041", ec="#34495e", lw=1.2))
    ax.text(3.5, -0.45, t["A"], ha="center", va="center", fontsize=9.5)
    ax.add_patch(Rectangle((4.6, -0.3), 0.5, 1.3, fc="#f5b041", ec="#34495e", lw=1.2))
    ax.text(5.75, 0.35, t["B"], ha="left", va="center", fontsize=9.5)
    ax.text(4.3, 0.9, "r", ha="center", va="center", fontsize=12, style="italic")
    _arrow(ax, (1.8, 2.4), (2.95, 3.5))
    _arrow(ax, (1.8, 2.0), (2.95, 0.4))
    _arrow(ax, (4.0, 0.35), (4.55, 0.35))
    # the sum
    ax.add_patch(plt.Circle((7.6, 2.2), 0.3, fc="white", ec="#34495e", lw=1.4))
    ax.text(7.6, 2.2, "+", ha="center", va="center", fontsize=16)
    _arrow(ax, (5.25, 3.65), (7.4, 2.45))
    _arrow(ax, (5.15, 0.35), (7.4, 1.95))
    ax.text(6.6, 0.95, t["scale"], ha="center", va="center", color="#c0392b")
    _node(ax, (9.6, 2.2), t["y"], "#fdebd0")
    _arrow(ax, (7.9, 2.2), (8.75, 2.2))
    ax.text(5.5, 5.2, t["formula"], ha="center", va="center", weight="bold")
    ax.text(5.5, -1.4, t["merge"], ha="center", va="center", color="#566573")
    return _save(fig, f"08_lora.{lang}.svg")


def main() -> None:
    write_all((lora,))


if __name__ == "__main__":
    main()

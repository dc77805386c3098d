"""Concept diagrams of chapter 10, one SVG per language (run from anywhere):

    python chapters/figures/make_figures_10.py

The CTC lattice: the blank-extended target ∅ a ∅ b ∅ (rows) against the frames (columns), with
the moves the forward recursion of `bigmodel_lib.models.ctc.ctc_alphas` allows, its two start
and two end states, and one path that collapses to "ab". Deterministic (fixed svg.hashsalt, no
date); text stays text, so a browser draws it with its own fonts, CJK included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_figures_03_04 import _save, write_all  # noqa: E402

FRAMES = 5
STATES = ["∅", "a", "∅", "b", "∅"]   # the target "ab" with a blank before, between and after
PATH = [1, 1, 2, 3, 4]               # a a ∅ b ∅ → "ab"

TEXT = {
    "en": {"frames": "frame t", "states": "extended target", "stay": "stay", "next": "next",
           "skip": "skip a blank\n(a ≠ b)", "start": "start: ∅ or the first label",
           "end": "end: the last label or the ∅ after it", "path": "one path: a a ∅ b ∅ → “ab”",
           "title": "CTC: every path through the lattice that collapses to “ab”, summed by α[t, s]"},
    "zh": {"frames": "帧 t", "states": "扩展后的目标序列", "stay": "停留", "next": "前进一格",
           "skip": "跳过空白\n（a ≠ b）", "start": "起点：∅ 或第一个标签",
           "end": "终点：最后一个标签或其后的 ∅", "path": "一条路径：a a ∅ b ∅ → “ab”",
           "title": "CTC：α[t, s] 对格子中所有折叠成 “ab” 的路径求和"},
}


def _arrow(ax, start, end, color="#7f8c8d", lw=1.0, **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=color, lw=lw,
                                 shrinkA=11, shrinkB=11, **kw))


def ctc_lattice(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    ax.set(xlim=(-1.6, FRAMES + 2.6), ylim=(-1.3, len(STATES) + 0.4))
    ax.axis("off")
    y = {s: len(STATES) - 1 - s for s in range(len(STATES))}  # the first state at the top
    for frame in range(1, FRAMES):
        for s, symbol in enumerate(STATES):
            for back in (0, 1, 2):
                if s - back < 0 or (back == 2 and (symbol == "∅" or STATES[s - 2] == symbol)):
                    continue
                on_path = PATH[frame - 1] == s - back and PATH[frame] == s
                _arrow(ax, (frame - 1, y[s - back]), (frame, y[s]), color="#c0392b" if on_path else "#95a5a6",
                       lw=2.2 if on_path else 0.9, connectionstyle="arc3,rad=0.18" if back == 2 else "arc3")
    for frame in range(FRAMES):
        for s, symbol in enumerate(STATES):
            start, end = frame == 0 and s < 2, frame == FRAMES - 1 and s >= len(STATES) - 2
            colour = "#d9f0d3" if start else "#f5d6e6" if end else "#ffffff"
            edge = "#c0392b" if PATH[frame] == s else "#34495e"
            ax.add_patch(Circle((frame, y[s]), 0.28, fc=colour, ec=edge, lw=2.0 if PATH[frame] == s else 1.0))
            ax.text(frame, y[s], symbol, ha="center", va="center", fontsize=12)
    for frame in range(FRAMES):
        ax.text(frame, -0.75, str(frame), ha="center", va="center")
    ax.text((FRAMES - 1) / 2, -1.2, t["frames"], ha="center", va="center")
    ax.text(-1.0, (len(STATES) - 1) / 2, t["states"], rotation=90, ha="center", va="center")
    legend_x = FRAMES - 0.2
    ax.text(legend_x, 4.0, f"→ {t['stay']}   ↘ {t['next']}", va="center")
    ax.text(legend_x, 3.2, f"↷ {t['skip']}", va="center")
    ax.add_patch(Circle((legend_x + 0.1, 2.2), 0.16, fc="#d9f0d3", ec="#34495e"))
    ax.text(legend_x + 0.4, 2.2, t["start"], va="center", fontsize=9.5)
    ax.add_patch(Circle((legend_x + 0.1, 1.5), 0.16, fc="#f5d6e6", ec="#34495e"))
    ax.text(legend_x + 0.4, 1.5, t["end"], va="center", fontsize=9.5)
    ax.plot([legend_x - 0.05, legend_x + 0.25], [0.8, 0.8], color="#c0392b", lw=2.2)
    ax.text(legend_x + 0.4, 0.8, t["path"], va="center", fontsize=9.5)
    ax.set_title(t["title"])
    return _save(fig, f"10_ctc_lattice.{lang}.svg")


def main() -> None:
    write_all((ctc_lattice,), "bigmodel-course-10")


if __name__ == "__main__":
    main()

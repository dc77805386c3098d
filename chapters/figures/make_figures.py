"""Draw the concept diagrams of chapters 00–02, one SVG per language (`<name>.zh.svg`, `<name>.en.svg`).

    python chapters/figures/make_figures.py

Deterministic (fixed hash salt, no date) and with text kept as text (svg.fonttype "none"), so a
diagram's words can be searched and the Chinese renders with the reader's CJK font; no font is
fetched. Re-run after editing a label: the output only changes where the drawing does.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).resolve().parent
FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "DejaVu Sans"]
COLOURS = {"data": "#fde9c9", "model": "#d6e6f5", "frozen": "#e3e3e3", "train": "#d9f0d3", "out": "#f5d6e6", "plain": "#ffffff"}


def box(ax, x: float, y: float, w: float, h: float, text: str, kind: str = "plain", size: float = 10) -> None:
    """A rounded box centred on (x, y) with its label."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=COLOURS[kind], ec="#444444", lw=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, wrap=False)


def arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str = "", colour: str = "#444444",
          curve: float = 0.0, size: float = 8.5) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=colour, lw=1.2,
                                 connectionstyle=f"arc3,rad={curve}", shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.12, text, ha="center", va="bottom",
                fontsize=size, color=colour)


def canvas(width: float, height: float):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def course_pipeline(lang: str):
    t = {
        "zh": ["参数单元\nPROFILE = smoke / full", "图示 + 玩具张量\n（手算可验证）", "真实数据与模型\n（离线、校验和）",
               "检查\n（有依据的误差界）", "记录数值\nbml.record", "小结 + 练习\n（自动评分、概念、\n实验）",
               "bigmodel_lib：每个部件只有一个规范版本", "版本：中文版 · 英文版 · 学生版（答案留空）"],
        "en": ["parameters cell\nPROFILE = smoke / full", "diagram + toy tensors\n(checkable by hand)", "real data and models\n(offline, checksums)",
               "check\n(a bound with a reason)", "record figures\nbml.record", "summary + exercises\n(autograded, conceptual,\nexperimental)",
               "bigmodel_lib: one canonical version of each piece", "editions: Chinese · English · student (answers blanked)"],
    }[lang]
    fig, ax = canvas(14, 3.6)
    xs = [1.2, 3.5, 5.8, 8.1, 10.4, 12.7]
    for i, (x, label) in enumerate(zip(xs, t[:6], strict=True)):
        box(ax, x, 2.5, 2.1, 1.0, label, ["data", "plain", "data", "model", "out", "train"][i], size=8)
        if i:
            arrow(ax, (xs[i - 1] + 1.07, 2.5), (x - 1.07, 2.5))
    box(ax, 5.8, 0.75, 6.6, 0.6, t[6], "model", size=9)
    for x in (3.5, 5.8, 8.1):
        arrow(ax, (x, 1.07), (x, 1.98), colour="#2b6cb0")
    box(ax, 11.55, 0.75, 4.3, 0.6, t[7], "plain", size=8.5)
    return fig


def mlm_vs_next_token(lang: str):
    t = {
        "zh": ["掩码语言模型（BERT 的预训练任务）：看左右两边，猜被遮住的词元",
               "下一个词元预测（GPT、SmolLM2）：只看左边，猜下一个词元", "预测", "看不到"],
        "en": ["masked-language modelling (how BERT was pretrained): both sides, guess the hidden token",
               "next-token prediction (GPT, SmolLM2): the left side only, guess the next token", "predict", "not seen"],
    }[lang]
    fig, ax = canvas(11, 4.4)
    words = ["the", "[MASK]", "barked", "at", "the", "mailman"]
    xs = [1.0 + 1.5 * i for i in range(len(words))]
    ax.text(0.3, 4.05, t[0], fontsize=10, ha="left", va="center")
    for x, w in zip(xs, words, strict=True):
        box(ax, x, 3.3, 1.2, 0.5, w, "out" if w == "[MASK]" else "data", size=10)
    box(ax, xs[1], 2.35, 1.2, 0.5, "dog", "train", size=10)
    arrow(ax, (xs[1], 3.03), (xs[1], 2.62), colour="#2f855a")
    for x in xs:
        if x != xs[1]:
            arrow(ax, (x, 3.03), (xs[1] + 0.6 * (1 if x > xs[1] else -1), 2.45), colour="#2b6cb0")
    ax.text(0.3, 1.75, t[1], fontsize=10, ha="left", va="center")
    for i, (x, w) in enumerate(zip(xs, ["the", "dog", "barked", "at", "the", "mailman"], strict=True)):
        box(ax, x, 1.1, 1.2, 0.5, w, "data" if i < 4 else "frozen", size=10)
    box(ax, xs[4], 0.25, 1.3, 0.4, f"{t[2]}: the", "train", size=9)
    for x in xs[:4]:
        arrow(ax, (x, 0.83), (xs[4] - 0.67, 0.3), colour="#2b6cb0")
    ax.text(xs[5], 0.25, t[3], fontsize=8.5, ha="center", va="center", color="#777777")
    return fig


def pretrain_finetune(lang: str):
    t = {
        "zh": ["大量无标签文本\n（句子对、网页）", "预训练\n（自监督）", "预训练编码器\nMiniLM，2270 万参数",
               "线性探测：编码器冻结\n只训练线性分类头", "微调：编码器也更新\n（最后几层或全部）+ 分类头",
               "少量有标签样本\n（情感：正面 / 负面）", "一次、很贵", "每个任务一次、便宜", "冻结"],
        "en": ["lots of unlabelled text\n(sentence pairs, web pages)", "pretraining\n(self-supervised)", "pretrained encoder\nMiniLM, 22.7M parameters",
               "linear probe: encoder frozen,\nonly a linear head trains", "fine-tuning: the encoder\nupdates too (last layers\nor all) + head",
               "a few labelled examples\n(sentiment: positive / negative)", "once, expensive", "once per task, cheap", "frozen"],
    }[lang]
    fig, ax = canvas(11, 4.2)
    box(ax, 1.4, 2.1, 2.3, 1.0, t[0], "data", size=9)
    box(ax, 4.0, 2.1, 1.9, 1.0, t[1], "plain", size=9)
    box(ax, 6.5, 2.1, 2.3, 1.0, t[2], "model", size=9)
    arrow(ax, (2.58, 2.1), (3.03, 2.1))
    arrow(ax, (4.97, 2.1), (5.33, 2.1))
    ax.text(4.0, 2.75, t[6], ha="center", fontsize=8.5, color="#444444")
    box(ax, 9.5, 3.2, 2.7, 0.9, t[3], "frozen", size=8.5)
    box(ax, 9.6, 1.0, 2.9, 0.9, t[4], "train", size=8)
    arrow(ax, (7.67, 2.35), (8.13, 3.0), colour="#555555")
    arrow(ax, (7.67, 1.85), (8.13, 1.2), colour="#2f855a")
    box(ax, 6.5, 0.45, 2.3, 0.7, t[5], "data", size=8.5)
    arrow(ax, (7.67, 0.45), (8.13, 0.8), colour="#b7791f")
    ax.text(9.5, 3.78, t[7], ha="center", fontsize=8.5, color="#444444")
    return fig


DIAGRAMS = {"course_pipeline": course_pipeline, "mlm_vs_next_token": mlm_vs_next_token,
            "pretrain_finetune": pretrain_finetune}


def main(diagrams: dict | None = None) -> None:
    """Draw `diagrams` ({name: draw(lang) -> figure}; this file's own by default) in both languages."""
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "bigmodel-course", "font.family": "sans-serif",
                         "font.sans-serif": FONTS})
    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # a missing CJK font is the reader's, not ours
    for name, draw in (diagrams or DIAGRAMS).items():
        for lang in ("zh", "en"):
            fig = draw(lang)
            fig.savefig(HERE / f"{name}.{lang}.svg", format="svg", bbox_inches="tight", metadata={"Date": None})
            plt.close(fig)


if __name__ == "__main__":
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph … missing from font": the SVG keeps the text, the viewer's font draws it
        main()

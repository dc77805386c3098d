"""Concept diagrams of chapter 06, one SVG per language (run from anywhere):

    python chapters/figures/make_figures_06.py

The same drawing helpers and settings as `make_figures.py` (deterministic, text kept as text).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_figures import arrow, box, canvas, main  # noqa: E402


def text_classifier(lang: str):
    t = {
        "zh": ["原始句子\n(B,)", "TextVectorization\n文本 → 词元 id", "词元 id\n(B, 64)，0 = 填充", "Embedding\nid → 32 维向量",
               "掩码平均池化\n只平均真实词元", "Dense(128, relu)\n原文的隐藏层", "Dense(2, softmax)\n每类一个概率",
               "原文缺少的三层：把文本变成数字、把 id 变成向量、把任意长度变成一个向量"],
        "en": ["raw sentences\n(B,)", "TextVectorization\ntext → token ids", "token ids\n(B, 64), 0 = padding", "Embedding\nid → 32-d vector",
               "masked mean pooling\nreal tokens only", "Dense(128, relu)\nthe source's hidden layer", "Dense(2, softmax)\none probability per class",
               "the three layers the listing lacks: text to numbers, ids to vectors, any length to one vector"],
    }[lang]
    fig, ax = canvas(15, 2.4)
    xs = [1.0, 3.1, 5.2, 7.3, 9.4, 11.5, 13.7]
    kinds = ["data", "train", "data", "train", "train", "model", "out"]
    for i, (x, label) in enumerate(zip(xs, t[:7], strict=True)):
        box(ax, x, 1.6, 1.9, 1.0, label, kinds[i], size=8)
        if i:
            arrow(ax, (xs[i - 1] + 0.97, 1.6), (x - 0.97, 1.6))
    ax.text(6.25, 0.75, t[7], ha="center", va="center", fontsize=9, color="#2f855a")  # under the green boxes
    return fig


def three_splits(lang: str):
    t = {
        "zh": ["训练集（约 70%）\n更新权重", "验证集（约 10%）\n每轮之后测量；选择轮数、\n早停、比较不同的输出层", "测试集（约 20%）\n只在最后一个单元测一次",
               "模型与设置", "选定的模型", "报告的准确率"],
        "en": ["training set (~70%)\nupdates the weights", "validation set (~10%)\nmeasured after each epoch: picks the\nepoch, stops early, compares heads",
               "test set (~20%)\nmeasured once, in the final cell", "model and settings", "the chosen model", "the accuracy we report"],
    }[lang]
    fig, ax = canvas(12.8, 2.6)
    parts = [(1.6, 2.8, "train"), (6.4, 3.8, "data"), (11.2, 2.8, "out")]  # (centre, width, colour)
    for (x, w, kind), label in zip(parts, t[:3], strict=True):
        box(ax, x, 1.3, w, 1.2, label, kind, size=9)
    for (x0, w0, _), (x1, w1, _), label in zip(parts[:-1], parts[1:], t[3:5], strict=True):
        arrow(ax, (x0 + w0 / 2 + 0.02, 1.3), (x1 - w1 / 2 - 0.02, 1.3), label, size=8)
    ax.text(11.2, 0.45, t[5], ha="center", va="center", fontsize=8.5, color="#444444")
    return fig


DIAGRAMS = {"06_text_classifier": text_classifier, "06_three_splits": three_splits}


if __name__ == "__main__":
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph … missing from font": the SVG keeps the text, the viewer's font draws it
        main(DIAGRAMS)

"""Concept diagram of chapter 09, one SVG per language (run from anywhere):

    python chapters/figures/make_figures_09.py

The confusion matrix of a spam filter and the two ratios read from it: precision along the
"predicted spam" column, recall along the "actually spam" row. Deterministic (fixed svg.hashsalt,
no date in the metadata); text stays text (svg.fonttype "none"), so CJK renders with the reader's fonts.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from make_figures_03_04 import _save, write_all  # noqa: E402  (the script's folder is on sys.path)
from matplotlib.patches import Rectangle  # noqa: E402

TEXT = {
    "en": {
        "predicted": "predicted", "actual": "actual", "ham": "ham", "spam": "spam",
        "TN": "TN\ntrue negative", "FP": "FP\nfalse alarm", "FN": "FN\nmissed spam", "TP": "TP\ncaught spam",
        "precision": "precision = TP / (TP + FP)\nof the messages flagged,\nhow many are spam",
        "recall": "recall = TP / (TP + FN)\nof the spam,\nhow much was caught",
        "accuracy": "accuracy = (TP + TN) / all      F1 = 2·TP / (2·TP + FP + FN)",
    },
    "zh": {
        "predicted": "预测", "actual": "真实", "ham": "正常", "spam": "垃圾",
        "TN": "TN\n真阴性", "FP": "FP\n误报", "FN": "FN\n漏报", "TP": "TP\n抓到的垃圾短信",
        "precision": "精确率 = TP / (TP + FP)\n被标为垃圾的短信里\n真是垃圾的比例",
        "recall": "召回率 = TP / (TP + FN)\n所有垃圾短信里\n被抓到的比例",
        "accuracy": "准确率 = (TP + TN) / 全部      F1 = 2·TP / (2·TP + FP + FN)",
    },
}


def confusion_precision_recall(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    ax.set(xlim=(-1.6, 8.2), ylim=(-1.6, 3.1))
    ax.axis("off")
    # rows: actual ham (y = 1), actual spam (y = 0); columns: predicted ham (x = 0), predicted spam (x = 1.6)
    cells = {"TN": (0, 1, "#e8f6e8"), "FP": (1.6, 1, "#f9dede"), "FN": (0, 0, "#f9dede"), "TP": (1.6, 0, "#e8f6e8")}
    for key, (x, y, color) in cells.items():
        ax.add_patch(Rectangle((x, y), 1.6, 1, fc=color, ec="#34495e", lw=1.2))
        ax.text(x + 0.8, y + 0.5, t[key], ha="center", va="center")
    ax.text(1.6, 2.55, t["predicted"], ha="center", va="center", weight="bold")
    ax.text(0.8, 2.2, t["ham"], ha="center", va="center")
    ax.text(2.4, 2.2, t["spam"], ha="center", va="center")
    ax.text(-1.2, 1.0, t["actual"], ha="center", va="center", weight="bold", rotation=90)
    ax.text(-0.45, 1.5, t["ham"], ha="center", va="center")
    ax.text(-0.45, 0.5, t["spam"], ha="center", va="center")
    # precision: the "predicted spam" column; recall: the "actually spam" row
    ax.add_patch(Rectangle((1.55, -0.05), 1.7, 2.1, fill=False, ec="#2471a3", lw=2.4, ls="--"))
    ax.add_patch(Rectangle((-0.08, -0.1), 3.36, 1.2, fill=False, ec="#d35400", lw=2.4, ls=":"))
    ax.text(5.6, 1.75, t["precision"], ha="center", va="center", color="#2471a3")
    ax.text(5.6, 0.25, t["recall"], ha="center", va="center", color="#d35400")
    ax.annotate("", xy=(3.3, 1.6), xytext=(4.1, 1.75), arrowprops={"arrowstyle": "-|>", "color": "#2471a3", "lw": 1.4})
    ax.annotate("", xy=(3.3, 0.5), xytext=(4.1, 0.25), arrowprops={"arrowstyle": "-|>", "color": "#d35400", "lw": 1.4})
    ax.text(3.3, -1.0, t["accuracy"], ha="center", va="center")
    return _save(fig, f"09_confusion_precision_recall.{lang}.svg")


def main() -> None:
    write_all((confusion_precision_recall,), "bigmodel-course-09")


if __name__ == "__main__":
    main()

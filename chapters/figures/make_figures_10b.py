"""Concept diagram of chapter 10b, one SVG per language (run from anywhere):

    python chapters/figures/make_figures_10b.py

Deterministic (fixed svg.hashsalt, no date in the metadata); text stays text, so a browser draws it
with its own fonts, CJK included. Shares the drawing helpers of make_figures_03_04.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_figures_03_04 import _arrow, _box, _save, plt, write_all  # noqa: E402

TEXT = {
    "en": {
        "data": "data set\nImageNet · IMDb · Wikipedia",
        "framework": "framework trains\nPyTorch · Keras (TensorFlow)",
        "export": "export for serving\nTorchScript · torch.export · ONNX\n.keras · SavedModel",
        "hub": "share the weights\nmodel hub · Python package",
        "safe": "data only: nothing runs on load\nsafetensors · GGUF",
        "unsafe": "pickle (torch.save, .bin, .pt):\nloading may run code",
    },
    "zh": {
        "data": "数据集\nImageNet · IMDb · 维基百科",
        "framework": "框架训练模型\nPyTorch · Keras（TensorFlow）",
        "export": "导出以部署\nTorchScript · torch.export · ONNX\n.keras · SavedModel",
        "hub": "分享权重\n模型仓库 · Python 包",
        "safe": "只有数据：加载时不运行任何代码\nsafetensors · GGUF",
        "unsafe": "pickle（torch.save、.bin、.pt）：\n加载时可能运行代码",
    },
}


def tools_and_resources(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(13, 4.2))
    ax.set(xlim=(0, 13.4), ylim=(0, 4.2))
    ax.axis("off")
    top = 3.2
    _box(ax, (1.5, top), t["data"], width=2.8, height=1.0, color="#fdebd0")
    _box(ax, (5.0, top), t["framework"], width=3.0, height=1.0, color="#dbe9f6")
    _box(ax, (8.9, top), t["export"], width=3.4, height=1.2, color="#dbe9f6")
    _box(ax, (5.0, 1.2), t["hub"], width=3.0, height=1.0, color="#fdebd0")
    _box(ax, (9.4, 1.9), t["safe"], width=4.2, height=0.9, color="#e8f6e8")
    _box(ax, (9.4, 0.6), t["unsafe"], width=4.2, height=0.9, color="#f9dede")
    _arrow(ax, (2.95, top), (3.45, top))
    _arrow(ax, (6.55, top), (7.15, top))
    _arrow(ax, (5.0, top - 0.55), (5.0, 1.75))
    _arrow(ax, (6.55, 1.4), (7.25, 1.85))
    _arrow(ax, (6.55, 1.0), (7.25, 0.65), color="#c0392b")
    return _save(fig, f"10b_tools_and_resources.{lang}.svg")


def main() -> None:
    write_all((tools_and_resources,), "bigmodel-course-10b")


if __name__ == "__main__":
    main()

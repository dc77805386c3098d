"""Chapter 05b's concept diagram, one SVG per language (run from anywhere):

    python chapters/figures/make_figures_05b.py

One Transformer block of GPT-2, BERT and Llama side by side, bottom to top, with the parts
that differ from GPT-2 highlighted. Deterministic (fixed svg.hashsalt, no date in the
metadata); text stays text (svg.fonttype "none"), so a browser draws it with its own fonts.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from make_figures_03_04 import _save, write_all  # noqa: E402  (this folder, on sys.path)
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

SAME, DIFFERENT = "#dbe9f6", "#fde2c4"

# Each column, bottom to top: (label key, differs from GPT-2?). "+" rows are residual sums.
COLUMNS = {
    "gpt": [("tok_pos", False), ("ln", False), ("mha_causal", False), ("add", False), ("ln", False),
            ("gelu_mlp", False), ("add", False), ("head_tied", False)],
    "bert": [("tok_pos_type", True), ("mha_bidir", True), ("add", False), ("ln_after", True),
             ("gelu_mlp_erf", True), ("add", False), ("ln_after", True), ("mean_pool", True)],
    "llama": [("tok_only", True), ("rms", True), ("gqa_rope", True), ("add", False), ("rms", True),
              ("swiglu", True), ("add", False), ("head_tied", False)],
}
TEXT = {
    "en": {
        "gpt": "GPT-2 (chapter 05)\npre-norm decoder", "bert": "BERT (MiniLM)\npost-norm encoder",
        "llama": "Llama (SmolLM2)\npre-norm decoder",
        "tok_pos": "token + learned position", "tok_pos_type": "token + learned position + type",
        "tok_only": "token only (no position table)",
        "ln": "LayerNorm", "ln_after": "LayerNorm (after the sum)", "rms": "RMSNorm (no mean, no bias)",
        "mha_causal": "multi-head attention, causal", "mha_bidir": "multi-head attention, both ways\n(padding masked)",
        "gqa_rope": "grouped-query attention\n9 q heads, 3 kv heads, RoPE on q, k",
        "add": "+ residual", "gelu_mlp": "MLP: GELU (tanh), 4C", "gelu_mlp_erf": "MLP: GELU (erf), 4C",
        "swiglu": "SwiGLU MLP: silu(gate)·up, 8/3·C\nno biases anywhere",
        "head_tied": "output head = token embedding (tied)", "mean_pool": "mean pooling → sentence vector",
        "legend_same": "as in GPT-2", "legend_diff": "differs from GPT-2", "repeat": "× L blocks",
    },
    "zh": {
        "gpt": "GPT-2（第 05 章）\n前置归一化解码器", "bert": "BERT（MiniLM）\n后置归一化编码器",
        "llama": "Llama（SmolLM2）\n前置归一化解码器",
        "tok_pos": "词元 + 可学习位置", "tok_pos_type": "词元 + 可学习位置 + 句段类型", "tok_only": "只有词元（没有位置表）",
        "ln": "LayerNorm", "ln_after": "LayerNorm（在求和之后）", "rms": "RMSNorm（不减均值，无偏置）",
        "mha_causal": "多头注意力，因果", "mha_bidir": "多头注意力，双向\n（屏蔽填充）",
        "gqa_rope": "分组查询注意力\n9 个 q 头、3 个 kv 头，q、k 上做 RoPE",
        "add": "+ 残差", "gelu_mlp": "MLP：GELU（tanh），4C", "gelu_mlp_erf": "MLP：GELU（erf），4C",
        "swiglu": "SwiGLU MLP：silu(gate)·up，8/3·C\n全模型无偏置",
        "head_tied": "输出头 = 词元嵌入（共享）", "mean_pool": "平均池化 → 句向量",
        "legend_same": "与 GPT-2 相同", "legend_diff": "与 GPT-2 不同", "repeat": "× L 个块",
    },
}


def _box(ax, x: float, y: float, text: str, color: str, width: float = 3.0, height: float = 0.62) -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                facecolor=color, edgecolor="#34495e", linewidth=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def blocks(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(10.5, 6.6))
    step = 0.8
    for col, (name, rows) in enumerate(COLUMNS.items()):
        x = col * 3.6
        ax.text(x, len(rows) * step + 0.05, t[name], ha="center", va="bottom", fontsize=10.5, weight="bold")
        for i, (key, differs) in enumerate(rows):
            y = i * step + 0.2
            if key == "add":
                ax.text(x, y, t["add"], ha="center", va="center", fontsize=9, color="#34495e")
            else:
                _box(ax, x, y, t[key], DIFFERENT if differs else SAME)
            if i:
                ax.add_patch(FancyArrowPatch((x, y - step + 0.33), (x, y - 0.33), arrowstyle="-|>",
                                             mutation_scale=9, color="#34495e", linewidth=0.8))
        ax.add_patch(FancyBboxPatch((x - 1.75, 0.2 + 0.55 * step), 3.5, 5.9 * step, boxstyle="round,pad=0.02",
                                    facecolor="none", edgecolor="#7f8c8d", linestyle="--", linewidth=0.8))
        ax.text(x + 1.72, 0.2 + 0.62 * step, t["repeat"], ha="right", va="bottom", fontsize=8, color="#7f8c8d")
    for i, (color, key) in enumerate([(SAME, "legend_same"), (DIFFERENT, "legend_diff")]):
        ax.add_patch(FancyBboxPatch((-1.5 + 3.6 * i, -0.75), 0.4, 0.3, boxstyle="round,pad=0.02", facecolor=color,
                                    edgecolor="#34495e"))
        ax.text(-0.95 + 3.6 * i, -0.6, t[key], va="center", fontsize=9)
    ax.set_xlim(-1.9, 9.1)
    ax.set_ylim(-0.95, len(COLUMNS["gpt"]) * step + 0.75)
    ax.axis("off")
    return _save(fig, f"05b_blocks.{lang}.svg")


def main() -> None:
    write_all((blocks,), "bigmodel-course-05b", {"font.size": 9.5})


if __name__ == "__main__":
    main()

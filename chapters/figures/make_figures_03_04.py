"""Concept diagrams of chapters 03 and 04, one SVG per language (run from anywhere):

    python chapters/figures/make_figures_03_04.py

Deterministic (fixed svg.hashsalt, no date in the metadata); text stays text (svg.fonttype
"none"), so a browser draws it with its own fonts, CJK included. The BPE figure is computed by
the library's `learn_merges` on the same toy corpus as chapter 04, so it cannot drift from it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).resolve().parent
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "sans-serif"]
BPE_TOY_CORPUS = "low lower lowest newer newest wider new new"  # chapter 04's toy corpus
BPE_TOY_WORD = " lowest"
BPE_TOY_MERGES = 8

TEXT = {
    "en": {
        "x": "input x\n(D = 64 pixels)",
        "linear": "linear layer\nz = xW + b",
        "z": "logits z\n(K = 10)",
        "softmax": "softmax\npᵢ = exp(zᵢ)/Σⱼexp(zⱼ)",
        "p": "probabilities p\n(sum to 1)",
        "y": "true class y\n(one-hot)",
        "loss": "cross-entropy\nL = −log p_y",
        "grad": "gradient  ∂L/∂z = p − y,   ∂L/∂W = x(p − y)ᵀ",
        "pipeline": ["raw text", "clean\n(NFKC, controls)", "deduplicate\n(exact + MinHash)", "scrub PII\n(e-mail, URL, phone)",
                     "split\n(train / test)", "tokenise\n(byte BPE)", "batches\n(x, y)"],
        "bpe_title": "BPE merges on the toy corpus: the word ' lowest'",
        "bpe_start": "bytes",
        "bpe_step": "merge {k}: {a} + {b} → {t}  ({n}×)",
    },
    "zh": {
        "x": "输入 x\n（D = 64 个像素）",
        "linear": "线性层\nz = xW + b",
        "z": "logits z\n（K = 10 类）",
        "softmax": "softmax\npᵢ = exp(zᵢ)/Σⱼexp(zⱼ)",
        "p": "概率 p\n（和为 1）",
        "y": "真实类别 y\n（独热编码）",
        "loss": "交叉熵\nL = −log p_y",
        "grad": "梯度  ∂L/∂z = p − y,   ∂L/∂W = x(p − y)ᵀ",
        "pipeline": ["原始文本", "清洗\n（NFKC、控制字符）", "去重\n（精确 + MinHash）", "清除个人信息\n（邮箱、网址、电话）",
                     "划分\n（训练 / 测试）", "分词\n（字节级 BPE）", "批次\n(x, y)"],
        "bpe_title": "玩具语料上的 BPE 合并：单词 ' lowest'",
        "bpe_start": "字节",
        "bpe_step": "第 {k} 次合并：{a} + {b} → {t}（{n} 次）",
    },
}


def _setup() -> None:
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts(fontext="otf") + font_manager.findSystemFonts():
        if "NotoSansCJK-Regular" in path:  # for the layout only: the SVG names fonts, never embeds them
            font_manager.fontManager.addfont(path)
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "bigmodel-course-03-04", "font.family": FONTS,
                         "font.size": 10.5})


def _box(ax, xy, text, width=1.6, height=0.9, color="#dbe9f6"):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                fc=color, ec="#34495e", lw=1.2))
    ax.text(x, y, text, ha="center", va="center")


def _arrow(ax, start, end, color="#34495e", style="-|>", **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, lw=1.4, **kw))


def _save(fig, name: str) -> Path:
    path = HERE / name
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    return path


def write_all(makers, hash_salt: str | None = None, rc: dict | None = None) -> None:
    """Draw every diagram of `makers` in both languages with these fonts and SVG settings (a chapter's
    own hash salt and rcParams on top) and print where each went."""
    _setup()
    plt.rcParams.update({**({"svg.hashsalt": hash_salt} if hash_salt else {}), **(rc or {})})
    for lang in ("zh", "en"):
        for make in makers:
            print(make(lang).relative_to(HERE.parent.parent))


def softmax_regression(lang: str) -> Path:
    t = TEXT[lang]
    fig, ax = plt.subplots(figsize=(13, 3.6))
    ax.set(xlim=(0, 13.2), ylim=(0, 3.6))
    ax.axis("off")
    top, step = 2.9, 2.24
    row = [("x", "#fdebd0"), ("linear", "#dbe9f6"), ("z", "#fdebd0"), ("softmax", "#dbe9f6"), ("p", "#fdebd0"),
           ("loss", "#f9dede")]
    for i, (key, color) in enumerate(row):
        _box(ax, (1 + step * i, top), t[key], width=2.04, color=color)
        if i:
            _arrow(ax, (1 + step * (i - 1) + 1.04, top), (1 + step * i - 1.04, top))
    loss_x = 1 + step * (len(row) - 1)
    _box(ax, (loss_x, 1.0), t["y"], width=2.04, color="#e8f6e8")
    _arrow(ax, (loss_x, 1.47), (loss_x, 2.43))
    _arrow(ax, (loss_x - 1.0, 2.5), (1 + 2 * step, 2.43), color="#c0392b", linestyle="--",
           connectionstyle="arc3,rad=-0.3")
    ax.text(1 + 3.3 * step, 1.2, t["grad"], ha="center", va="center", color="#c0392b")
    return _save(fig, f"03_softmax_regression.{lang}.svg")


def data_pipeline(lang: str) -> Path:
    steps = TEXT[lang]["pipeline"]
    fig, ax = plt.subplots(figsize=(13, 1.8))
    ax.set(xlim=(0, 1.85 * len(steps)), ylim=(0, 1.6))
    ax.axis("off")
    for i, step in enumerate(steps):
        x = 0.95 + 1.85 * i
        color = "#fdebd0" if i in (0, len(steps) - 1) else "#dbe9f6"
        _box(ax, (x, 0.8), step, width=1.6, height=1.0, color=color)
        if i:
            _arrow(ax, (x - 1.85 + 0.82, 0.8), (x - 0.82, 0.8))
    return _save(fig, f"04_pipeline.{lang}.svg")


def bpe_rows() -> list[tuple[list[bytes], tuple[bytes, bytes, bytes, int] | None]]:
    """The toy word's tokens before any merge and after each merge that changes it."""
    from bigmodel_lib.tokenizers.bpe import ByteBPETokenizer, learn_merges

    seen: list[tuple[tuple[int, int], int, bytes]] = []
    merges = learn_merges(BPE_TOY_CORPUS, 256 + BPE_TOY_MERGES, on_merge=lambda p, n, tok: seen.append((p, n, tok)))
    rows = [([bytes([b]) for b in BPE_TOY_WORD.encode()], None)]
    for k in range(1, len(merges) + 1):
        tokenizer = ByteBPETokenizer(merges[:k])
        pieces = [tokenizer.vocab[i] for i in tokenizer.encode(BPE_TOY_WORD)]
        (a, b), count, token = seen[k - 1]
        rows.append((pieces, (tokenizer.vocab[a], tokenizer.vocab[b], token, count, k)))
    return rows


def bpe_merges(lang: str) -> Path:
    t = TEXT[lang]
    rows = bpe_rows()
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(rows) + 0.8))
    ax.set(xlim=(0, 13), ylim=(-0.5, len(rows) + 0.2))
    ax.axis("off")
    ax.text(0, len(rows) - 0.1, t["bpe_title"], fontsize=12, weight="bold")

    def show(token: bytes) -> str:
        return "'" + token.decode("utf-8", errors="backslashreplace").replace(" ", "␣") + "'"

    for r, (pieces, merge) in enumerate(rows):
        y = len(rows) - 1 - r - 0.3
        x = 0.0
        for piece in pieces:
            width = 0.42 * len(piece)
            new = merge is not None and piece == merge[2]
            ax.add_patch(FancyBboxPatch((x, y - 0.2), width - 0.06, 0.4, boxstyle="round,pad=0.02",
                                        fc="#f5b041" if new else "#dbe9f6", ec="#34495e", lw=1))
            ax.text(x + (width - 0.06) / 2, y, piece.decode("utf-8", errors="replace").replace(" ", "␣"),
                    ha="center", va="center", family="DejaVu Sans Mono")
            x += width
        label = t["bpe_start"] if merge is None else t["bpe_step"].format(
            k=merge[4], a=show(merge[0]), b=show(merge[1]), t=show(merge[2]), n=merge[3])
        ax.text(3.6, y, label, va="center")
    return _save(fig, f"04_bpe_merges.{lang}.svg")


def main() -> None:
    write_all((softmax_regression, data_pipeline, bpe_merges))


if __name__ == "__main__":
    main()

"""The static course site: an index of every chapter (time, prerequisites, key figures, a plot)
and each chapter rendered to HTML from its committed, executed notebook.

    bigmodel course site --out build/site       (make site)

Key figures come from a results folder (`build/course/results` after `make course`, else
`build/results`) when the chapter has been run there, otherwise from the chapter's committed
summary table.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from ..paths import repo_root
from .chapters import Chapter, all_chapters
from .site import STYLE, format_value

CARD_STYLE = """
.card { display: grid; grid-template-columns: 1fr 18rem; gap: 1rem; border: 1px solid #ddd;
        border-radius: .5rem; padding: 1rem; margin: 1rem 0; }
.card img { max-width: 18rem; max-height: 12rem; object-fit: contain; }
.meta { color: #555; font-size: .9rem; }
"""


def first_cell_rows(chapter: Chapter) -> dict[str, str]:
    """The time estimate and prerequisites stated in the chapter's first markdown cell, written
    either as table rows (`| time | … |`) or as bold labels (`**Time:** …`)."""
    notebook = json.loads(chapter.path.read_text(encoding="utf-8"))
    text = "".join(notebook["cells"][0]["source"])
    rows = {}
    for key, label in (("time", "time"), ("prerequisites", "prerequisites?")):
        row = re.search(rf"^\|\s*{label}\s*\|\s*(.+?)\s*\|", text, re.I | re.M)
        bold = re.search(rf"\*\*{label}\b([^*]*?):?\*\*:?\s*(.+?)(?=\s*\*\*[A-Z]|\n\n|$)", text, re.I | re.S)
        if row:
            rows[key] = re.sub(r"\s+", " ", row[1]).strip()
        elif bold:
            qualifier = bold[1].strip(" :")
            value = re.sub(r"\s+", " ", bold[2]).strip()
            rows[key] = f"{qualifier}: {value}" if qualifier else value
    return rows


def first_plot(chapter: Chapter) -> bytes | None:
    notebook = json.loads(chapter.path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                return base64.b64decode("".join(png) if isinstance(png, list) else png)
    return None


def key_figures(chapter: Chapter, results_dirs: list[Path]) -> dict:
    for directory in results_dirs:
        path = directory / f"{chapter.name}.json"
        if path.exists():
            return {k: v["value"] for k, v in json.loads(path.read_text(encoding="utf-8"))["figures"].items()}
    return {}


def build_site(out: Path | str = "build/site", results_dirs: list[Path] | None = None) -> Path:
    """Render every chapter and write `out/index.html`; returns the index path."""
    from .runner import render_html

    out = Path(out)
    (out / "chapters").mkdir(parents=True, exist_ok=True)
    (out / "plots").mkdir(exist_ok=True)
    root = repo_root()
    results_dirs = results_dirs or [root / "build" / "course" / "results", root / "build" / "results"]
    cards = []
    for chapter in all_chapters():
        render_html(chapter.path, out / "chapters" / f"{chapter.name}.html")
        rows = first_cell_rows(chapter)
        plot = first_plot(chapter)
        image = ""
        if plot:
            (out / "plots" / f"{chapter.name}.png").write_bytes(plot)
            image = f"<img src='plots/{chapter.name}.png' alt='a plot from {html.escape(chapter.name)}'>"
        figures = key_figures(chapter, results_dirs)
        figure_rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(format_value(v))}</td></tr>" for k, v in list(figures.items())[:8]
        )
        cards.append(
            f"<section class='card' id='{chapter.name}'><div>"
            f"<h2><a href='chapters/{chapter.name}.html'>{html.escape(chapter.title)}</a></h2>"
            f"<p class='meta'>time: {html.escape(rows.get('time', '—'))} · "
            f"prerequisites: {html.escape(rows.get('prerequisites', '—'))}</p>"
            + (f"<table class='figures'>{figure_rows}</table>" if figure_rows else "")
            + f"</div><div>{image}</div></section>"
        )
    glossary = _glossary_link(out, root) + teachers_page(out, root)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>bigmodel-course</title><style>{STYLE}{CARD_STYLE}</style></head><body>"
        "<h1>Developing large models from scratch and fine-tuning them</h1>"
        "<p>大模型开发与微调：从零开始 — a runnable course. Run it yourself with <code>make course</code>.</p>"
        f"{glossary}{''.join(cards)}</body></html>"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _glossary_link(out: Path, root: Path) -> str:
    source = root / "docs" / "glossary.md"
    if not source.exists():
        return ""
    body = html.escape(source.read_text(encoding="utf-8"))
    body = re.sub(r"^# (.*)$", r"<h1>\1</h1>", body, flags=re.M)
    (out / "glossary.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Glossary</title><style>{STYLE}</style></head>"
        f"<body><pre style='background:none;font-size:1rem'>{body}</pre></body></html>",
        encoding="utf-8",
    )
    return "<p><a href='glossary.html'>Glossary 术语表 (中文 / English)</a></p>"


def teachers_guide(readme: str) -> str:
    """The README's "For teachers" section (its one home), without the heading."""
    match = re.search(r"^## For teachers\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    return match[1].strip() if match else ""


def teachers_page(out: Path, root: Path) -> str:
    """Write `out/teachers.html` from the README's guide for teachers; the index's link to it."""
    import mistune

    readme = root / "README.md"
    guide = teachers_guide(readme.read_text(encoding="utf-8")) if readme.exists() else ""
    if not guide:
        return ""
    (out / "teachers.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>For teachers</title>"
        f"<style>{STYLE}</style></head><body><h1>For teachers</h1>{mistune.html(guide)}</body></html>",
        encoding="utf-8",
    )
    return "<p><a href='teachers.html'>For teachers: offline classrooms, labs, exercises, grading with nbgrader</a></p>"

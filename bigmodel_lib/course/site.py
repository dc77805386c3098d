"""The course's index page: every chapter with its status, run time and recorded figures."""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..io import atomic_write_text

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }
.ok { color: #0a7a2f; font-weight: 600; } .failed { color: #b00020; font-weight: 600; }
.figures { font-size: .85rem; } .figures td { border: none; padding: .1rem .4rem; }
pre { white-space: pre-wrap; font-size: .8rem; background: #fbeaea; padding: .4rem; }
"""


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) < 80 else text[:77] + "…"
    return str(value)


def figures_table(results_file: Path) -> str:
    if not results_file.exists():
        return "<em>no figures recorded</em>"
    figures = json.loads(results_file.read_text(encoding="utf-8")).get("figures", {})
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(format_value(item['value']))}</td></tr>"
        for name, item in figures.items()
    )
    return f"<table class='figures'>{rows}</table>" if rows else "<em>no figures recorded</em>"


def write_index(out: Path, outcomes, profile: str) -> Path:
    rows = []
    for outcome in outcomes:
        error = f"<pre>{html.escape(outcome.error)}</pre>" if outcome.error else ""
        # a failed chapter shows no figures: whatever is on disk is not from this run
        figures = figures_table(out / "results" / f"{outcome.chapter}.json") if outcome.status == "ok" else ""
        rows.append(
            "<tr>"
            f"<td><a href='html/{outcome.chapter}.html'>{html.escape(outcome.title)}</a><br>"
            f"<small><a href='notebooks/{outcome.chapter}.ipynb'>{outcome.chapter}.ipynb</a></small></td>"
            f"<td class='{outcome.status}'>{outcome.status}</td>"
            f"<td>{outcome.seconds:.0f} s</td>"
            f"<td>{figures}{error}</td>"
            "</tr>"
        )
    passed = sum(o.status == "ok" for o in outcomes)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>bigmodel-course results ({profile})</title><style>{STYLE}</style></head><body>"
        "<h1>Developing large models from scratch and fine-tuning them</h1>"
        "<p>大模型开发与微调：从零开始 — executed course, "
        f"profile <strong>{html.escape(profile)}</strong>: {passed} of {len(outcomes)} chapters ran.</p>"
        "<table><thead><tr><th>chapter</th><th>status</th><th>time</th><th>key figures</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></body></html>"
    )
    index = out / "index.html"
    atomic_write_text(index, page)
    return index

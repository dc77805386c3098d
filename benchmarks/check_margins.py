"""How close each reference comparison came to its round-off bound, per CPU kernel setting.

Run the tests (or chapters) with `BIGMODEL_CHECK_LOG=checks.jsonl`, under as many settings as you
like, e.g.

    for cap in default avx2 avx512; do
      BIGMODEL_CHECK_LOG=build/checks.jsonl ATEN_CPU_CAPABILITY=$cap python -m pytest -m reference tests
    done
    python benchmarks/check_margins.py build/checks.jsonl

and this prints, for every named check, the largest difference measured under each setting and
its bound: the margin that says how much room the arithmetic leaves (never a timing or a pass/fail).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def margins(log: Path) -> pd.DataFrame:
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    table = pd.DataFrame(rows)
    table["setting"] = table["capability"] + "/" + table["threads"].astype(str) + "t"
    largest = table.groupby(["name", "setting"])["difference"].max().unstack("setting")
    largest["bound (smallest)"] = table.groupby("name")["bound"].min()
    largest["largest difference / bound"] = (table["difference"] / table["bound"]).groupby(table["name"]).max()
    return largest.sort_values("largest difference / bound", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="a BIGMODEL_CHECK_LOG file")
    parser.add_argument("--top", type=int, default=40, help="rows to print, closest to their bound first (default: 40)")
    args = parser.parse_args()
    with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.float_format", "{:.2e}".format):
        print(margins(args.log).head(args.top).to_string())


if __name__ == "__main__":
    main()

"""The course trainer against nanoGPT's own train.py on nanoGPT's CPU recipe, run alternately: tokens/s.

    python benchmarks/versus_nanogpt.py --nanogpt /path/to/nanoGPT --pairs 4

`--nanogpt` is a checkout of https://github.com/karpathy/nanoGPT (outside this repository; nothing of it is
copied in). Its `data/shakespeare_char` is prepared from the course's Tiny Shakespeare (the registered, checksummed
file) with nanoGPT's own `prepare.py`. Each pair runs nanoGPT's `train.py` (4 layers, 4 heads, 128 wide, context
64, batch 12, 2,000 steps, fp32, no compile, no dropout; `--log_interval=1` so every iteration's time is printed)
and then `benchmarks/recipe_run.py` (chapter 07's Trainer on the same model shape, data and optimiser settings),
each with the same number of threads. Speed is compared two ways, each left out of evaluations:

- mean: tokens / training seconds over the whole run (what each trainer reports);
- median: 768 tokens / the median step time (nanoGPT: each iteration; the course: each 10-step log interval),
  which a few seconds of interference from elsewhere on the machine cannot move.

Run it on an otherwise idle machine: a busy one makes every figure describe the other work.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NANOGPT_ARGS = ["config/train_shakespeare_char.py", "--device=cpu", "--compile=False", "--eval_iters=20",
                "--log_interval=1", "--block_size=64", "--batch_size=12", "--n_layer=4", "--n_head=4", "--n_embd=128",
                "--max_iters=2000", "--lr_decay_iters=2000", "--dropout=0.0"]
EVAL_INTERVAL = 250  # train_shakespeare_char.py's: those iterations include an evaluation
TOKENS_PER_STEP = 12 * 64


def prepare_data(nanogpt: Path) -> None:
    """nanoGPT's shakespeare_char files from the course's Tiny Shakespeare, by nanoGPT's own prepare.py."""
    folder = nanogpt / "data" / "shakespeare_char"
    if (folder / "train.bin").exists():
        return
    from bigmodel_lib.data.fetch import fetch_file

    shutil.copyfile(fetch_file("tinyshakespeare"), folder / "input.txt")  # prepare.py downloads only when it is missing
    subprocess.run([sys.executable, "prepare.py"], cwd=folder, check=True)


def nanogpt_speed(log: str) -> dict:
    """Tokens/s (mean and median based) and the last validation loss from train.py's output."""
    steps = [(int(i), float(ms)) for i, ms in re.findall(r"^iter (\d+): loss [\d.]+, time ([\d.]+)ms", log, re.M)]
    times = [ms / 1000 for i, ms in steps if i % EVAL_INTERVAL]
    vals = re.findall(r"^step \d+: train loss [\d.]+, val loss ([\d.]+)", log, re.M)
    return {"tokens_per_s": TOKENS_PER_STEP / statistics.mean(times),
            "median_tokens_per_s": TOKENS_PER_STEP / statistics.median(times), "val_loss": float(vals[-1])}


def course_speed(output: str) -> dict:
    row = ast.literal_eval(output.strip().splitlines()[-1])  # recipe_run.py prints its row as a dict literal
    return {k: row[k] for k in ("tokens_per_s", "median_tokens_per_s", "val_loss")}


def run(command: list[str], cwd: Path, threads: int) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    return subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nanogpt", type=Path, required=True, help="a checkout of karpathy/nanoGPT")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.nanogpt / "train.py").exists():
        raise SystemExit(f"{args.nanogpt} has no train.py: pass --nanogpt a checkout of karpathy/nanoGPT.")
    sys.path.insert(0, str(ROOT))
    prepare_data(args.nanogpt)

    print(f"{'pair':>4s} {'nanoGPT tok/s':>14s} {'course tok/s':>13s} {'ratio':>6s}   "
          f"{'median: nanoGPT':>15s} {'course':>7s} {'ratio':>6s}   val nanoGPT / course", flush=True)
    ratios = {"mean": [], "median": []}
    for pair in range(1, args.pairs + 1):
        nano = nanogpt_speed(run([sys.executable, "train.py", *NANOGPT_ARGS], args.nanogpt, args.threads))
        course = course_speed(run([sys.executable, "benchmarks/recipe_run.py"], ROOT, args.threads))
        ratios["mean"].append(course["tokens_per_s"] / nano["tokens_per_s"])
        ratios["median"].append(course["median_tokens_per_s"] / nano["median_tokens_per_s"])
        print(f"{pair:4d} {nano['tokens_per_s']:14,.0f} {course['tokens_per_s']:13,.0f} {ratios['mean'][-1]:6.2f}   "
              f"{nano['median_tokens_per_s']:15,.0f} {course['median_tokens_per_s']:7,.0f} {ratios['median'][-1]:6.2f}   "
              f"{nano['val_loss']:.4f} / {course['val_loss']:.4f}", flush=True)
    for kind, values in ratios.items():
        print(f"course / nanoGPT, {kind}-based: median of pairs {statistics.median(values):.2f} "
              f"(pairs {min(values):.2f}-{max(values):.2f})")


if __name__ == "__main__":
    main()

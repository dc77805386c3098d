"""The course trainer against nanoGPT's own train.py on nanoGPT's CPU recipe, run alternately: tokens/s.

    python benchmarks/versus_nanogpt.py --nanogpt /path/to/nanoGPT --pairs 4          # whole runs, alternately
    python benchmarks/versus_nanogpt.py --nanogpt /path/to/nanoGPT --alternate-steps 400  # step by step

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

Whole runs on a shared virtual machine swing by ±10 % from one to the next, more than the difference being
measured. `--alternate-steps` removes that: in one process it builds nanoGPT's model (its `model.py`) with its own
optimiser set-up (`configure_optimizers`) and takes its training loop's step — learning rate set per group,
forward, next batch from its memmap, backward, gradient clipping, AdamW, `loss.item()` (log_interval=1) — and the
course's `Trainer.run_step` (with the trainer's one read of the losses per 10 steps), one after the other on the
same machine state; the median step times are compared.
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


def nanogpt_step(nanogpt: Path):
    """A function taking one step of nanoGPT's training loop (train.py's loop body, CPU, fp32) on its model."""
    import math

    import numpy as np
    import torch

    sys.path.insert(0, str(nanogpt))
    from model import GPT, GPTConfig  # nanoGPT's model.py

    torch.manual_seed(1337)
    model = GPT(GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False))
    optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99), "cpu")
    train_bin = nanogpt / "data" / "shakespeare_char" / "train.bin"

    def get_batch():
        data = np.memmap(train_bin, dtype=np.uint16, mode="r")
        ix = torch.randint(len(data) - 64, (12,))
        x = torch.stack([torch.from_numpy(data[i:i + 64].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + 64].astype(np.int64)) for i in ix])
        return x, y

    def get_lr(it, warmup=100, decay=2000, top=1e-3, bottom=1e-4):
        if it < warmup:
            return top * (it + 1) / (warmup + 1)
        return bottom + 0.5 * (1.0 + math.cos(math.pi * (it - warmup) / (decay - warmup))) * (top - bottom)

    state = {"it": 0, "batch": get_batch()}

    def step():
        for group in optimizer.param_groups:
            group["lr"] = get_lr(state["it"])
        _, loss = model(*state["batch"])
        state["batch"] = get_batch()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        state["it"] += 1

    return step


def course_step():
    """A function taking one step of chapter 07's Trainer on nanoGPT's recipe (as recipe_run.py trains it)."""
    import torch

    from bigmodel_lib.models.gpt import GPT
    from bigmodel_lib.training.course_gpt import recipe_config, recipe_train_config, shakespeare_windows
    from bigmodel_lib.training.trainer import Trainer

    tokenizer, data = shakespeare_windows("cpu")
    torch.manual_seed(0)
    trainer = Trainer(GPT(recipe_config(tokenizer.vocab_size)), data, recipe_train_config(2000, progress=False),
                      device="cpu")
    trainer._open_logs()  # as fit() does: no folder, so no files
    pending = []

    def step():
        pending.append((trainer.step + 1, *trainer.run_step()))
        if len(pending) == trainer.config.log_every:
            trainer._read_pending(pending, 1.0)
            pending.clear()

    return step


def alternate_steps(nanogpt: Path, steps: int, warmup: int = 20) -> dict:
    """Median milliseconds per step of each trainer, the two stepping alternately (first one, then the other)."""
    import time

    steppers = {"nanoGPT train.py": nanogpt_step(nanogpt), "course Trainer": course_step()}
    times = {name: [] for name in steppers}
    for i in range(warmup + steps):
        order = list(steppers.items())
        for name, step in order[::-1] if i % 2 else order:  # each goes first half the time
            start = time.perf_counter()
            step()
            if i >= warmup:
                times[name].append(1000 * (time.perf_counter() - start))
    return {name: statistics.median(t) for name, t in times.items()}


def run(command: list[str], cwd: Path, threads: int) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    return subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nanogpt", type=Path, required=True, help="a checkout of karpathy/nanoGPT")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--alternate-steps", type=int, default=None, help="compare step by step in one process")
    args = parser.parse_args(argv)
    if not (args.nanogpt / "train.py").exists():
        raise SystemExit(f"{args.nanogpt} has no train.py: pass --nanogpt a checkout of karpathy/nanoGPT.")
    sys.path.insert(0, str(ROOT))
    prepare_data(args.nanogpt)
    if args.alternate_steps:
        import torch

        torch.set_num_threads(args.threads)
        ms = alternate_steps(args.nanogpt, args.alternate_steps)
        for name, value in ms.items():
            print(f"{name:17s} {value:6.2f} ms per step (median of {args.alternate_steps}): "
                  f"{TOKENS_PER_STEP / value * 1000:,.0f} tokens/s")
        print(f"course / nanoGPT: {ms['nanoGPT train.py'] / ms['course Trainer']:.3f}x the tokens/s")
        return

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

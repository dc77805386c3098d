"""Fault injection: a training run SIGKILLed at random moments, then resumed, ends bit-exactly where an
uninterrupted run of the same config ends, and its metrics log holds every step exactly once.

Each run is a separate process so that a real SIGKILL can land anywhere: mid-step, mid-save,
mid-log, before the first checkpoint. The kill moments come from a seeded generator; wherever they
land the assertions must hold, so the test cannot flake on a slow or a fast machine. The processes
are forked from a server that imported torch once (multiprocessing's "forkserver"), which keeps the
six runs to seconds.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import time
import warnings
from pathlib import Path

import pytest
import torch

from bigmodel_lib.training.checkpoint import read_manifest

MAX_STEPS = 24
KILLS = 4


def train(out_dir: str, pause: float, ready) -> None:
    """The run under test (in a child process): resume whatever is in out_dir and train to the end."""
    from bigmodel_lib.models.gpt import GPT, GPTConfig
    from bigmodel_lib.training.batches import TokenWindows, split_tokens
    from bigmodel_lib.training.trainer import TrainConfig, Trainer

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # "moved an earlier run aside" after a kill before the first checkpoint
    ids = torch.randint(0, 32, (4000,), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=32, n_layer=1, n_head=2, n_embd=16, dropout=0.1))
    data = TokenWindows(*split_tokens(ids), block_size=16, seed=0)
    config = TrainConfig(max_steps=MAX_STEPS, batch_size=4, lr=3e-3, warmup_steps=3, eval_every=8, eval_batches=1,
                         checkpoint_every=3, keep_checkpoints=2, progress=False)
    trainer = Trainer(model, data, config, device="cpu", out_dir=out_dir,
                      callbacks=(lambda trainer, row: time.sleep(pause),))
    ready.set()
    trainer.fit(resume=True)


def start(context, out_dir: Path, pause: float):
    ready = context.Event()
    process = context.Process(target=train, args=(str(out_dir), pause, ready), daemon=True)
    process.start()
    assert ready.wait(timeout=120), "the training process did not start"
    return process


def final_weights(out_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    folder = out_dir / "checkpoints"
    entry = read_manifest(folder)[-1]
    assert entry["step"] == MAX_STEPS
    return load_file(folder / entry["weights"])


def log_rows(out_dir: Path) -> list[dict]:
    with open(out_dir / "metrics.csv", newline="", encoding="utf-8") as handle:
        return [{k: v for k, v in row.items() if k != "tokens_per_s"} for row in csv.DictReader(handle)]


def check_log_covers_the_checkpoints(out_dir: Path) -> None:
    """Right after a kill: every step up to the newest committed checkpoint is in the log."""
    committed = read_manifest(out_dir / "checkpoints") if (out_dir / "checkpoints").is_dir() else []
    if not committed:
        return
    logged = {int(row["step"]) for row in log_rows(out_dir) if row["kind"] == "train" and row["step"]}
    newest = committed[-1]["step"]
    assert set(range(1, newest + 1)) <= logged, f"checkpoint {newest} saved, but logged steps are only {sorted(logged)}"


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and forkserver are POSIX")
def test_sigkilled_runs_resume_bit_exactly(tmp_path):
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["torch", "bigmodel_lib.training.trainer", "bigmodel_lib.models.gpt"])
    reference = start(context, tmp_path / "uninterrupted", pause=0.0)
    reference.join(timeout=120)
    assert reference.exitcode == 0

    killed = tmp_path / "killed"
    rng = random.Random(0)
    for _ in range(KILLS):
        process = start(context, killed, pause=0.02)  # ~20 ms a step: the kills spread over the run
        time.sleep(rng.uniform(0.0, 0.8))
        process.kill()  # SIGKILL: no clean-up code runs
        process.join(timeout=60)
        check_log_covers_the_checkpoints(killed)
    last = start(context, killed, pause=0.0)
    last.join(timeout=120)
    assert last.exitcode == 0

    expected, resumed = final_weights(tmp_path / "uninterrupted"), final_weights(killed)
    assert expected.keys() == resumed.keys()
    for name, tensor in expected.items():
        assert torch.equal(tensor, resumed[name]), name
    rows = log_rows(killed)
    assert [int(r["step"]) for r in rows if r["kind"] == "train"] == list(range(1, MAX_STEPS + 1))
    assert rows == log_rows(tmp_path / "uninterrupted")  # the same losses, lr, grad norms and evaluations
    assert not [p for p in killed.rglob("*") if p.name.endswith(".partial")]

"""DistributedDataParallel and fully sharded data parallel with 2 CPU processes (gloo) match one process
at the same global batch; FSDP holds about half the parameter and optimizer bytes per process."""

from __future__ import annotations

import json
import math

import pytest

import bigmodel_lib as bml
from bigmodel_lib.models.gpt import GPT, GPTConfig
from bigmodel_lib.training import ddp_train
from bigmodel_lib.training.distributed import run_torchrun, setup_distributed, torchrun_command
from tests._training_fixtures import one_thread

single_thread = pytest.fixture(autouse=True, scope="module")(one_thread)
ARGS = ["--steps", "6", "--global-batch", "8", "--block-size", "32", "--n-layer", "2", "--n-head", "2",
        "--n-embd", "32", "--lr", "1e-2", "--warmup", "2", "--chars", "50000", "--eval-batches", "2"]


def test_single_process_without_torchrun(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    info = setup_distributed("cpu")
    assert (info.rank, info.world_size, info.backend) == (0, 1, None)
    assert torchrun_command("m", ["--x"], 2)[-4:] == ["--nproc_per_node=2", "-m", "m", "--x"]


STEPS, GLOBAL_BATCH, BLOCK = 6, 8, 32


def trajectory_bound(losses: list[float]) -> float:
    """How far two correct runs may drift apart when only their gradient sums are ordered differently.

    A step's loss is a mean over GLOBAL_BATCH·BLOCK = 256 token losses: summed in another order (per
    rank, then averaged), it and its gradient differ by up to roundoff_bound(256, loss); AdamW divides
    by √v, so a relative gradient difference passes into the update unchanged, and each of the STEPS
    steps adds its own. Bound: STEPS · roundoff_bound(GLOBAL_BATCH·BLOCK, largest loss) ≈ 3e-4.
    """
    return STEPS * bml.roundoff_bound(GLOBAL_BATCH * BLOCK, max(losses))


def run_parallel(tmp_path, parallel: str) -> dict:
    out = tmp_path / f"{parallel}.json"
    run_torchrun("bigmodel_lib.training.ddp_train", [*ARGS, "--device", "cpu", "--parallel", parallel,
                                                     "--out", str(out)], nproc=2, timeout=300)
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return ddp_train.main([*ARGS, "--device", "cpu", "--out", str(tmp_path_factory.mktemp("one") / "single.json")])


def check_same_run(name: str, parallel: dict, single: dict) -> None:
    assert parallel["world_size"] == 2 and parallel["backend"] == "gloo"
    assert single["losses"][-1] < single["losses"][0] - 0.2  # it trains
    bound = trajectory_bound(single["losses"])
    difference = max(abs(a - b) for a, b in zip(parallel["losses"] + [parallel["val"]],
                                                  single["losses"] + [single["val"]], strict=True))
    bml.check_close(f"{name} losses vs one process", difference, bound)


def test_ddp_two_processes_match_one_process(tmp_path, single):
    ddp = run_parallel(tmp_path, "ddp")
    check_same_run("DDP", ddp, single)
    assert ddp["state_bytes"] == single["state_bytes"]  # every rank holds a full copy


def test_fsdp_two_processes_match_one_process_with_half_the_state(tmp_path, single):
    fsdp = run_parallel(tmp_path, "fsdp")
    assert fsdp["parallel"] == "fsdp"
    check_same_run("FSDP", fsdp, single)
    # rank 0 holds the first half of every tensor's rows (the larger half where the count is odd) and
    # AdamW's two moments of that half; each tensor's step counter is a 4-byte scalar on every rank
    params = list(GPT(GPTConfig(block_size=BLOCK, vocab_size=65, n_layer=2, n_head=2, n_embd=32)).parameters())
    half = sum(math.ceil(p.shape[0] / 2) * p[0].numel() * p.element_size() for p in params)
    assert fsdp["state_bytes"] == {"parameters": half, "optimizer": 2 * half + 4 * len(params)}
    share = fsdp["state_bytes"]["parameters"] / single["state_bytes"]["parameters"]
    assert share < 0.56, f"FSDP rank 0 holds {share:.3f} of the parameter bytes, expected about 1/2"

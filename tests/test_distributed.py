"""DistributedDataParallel with 2 CPU processes (gloo) matches one process at the same global batch."""

from __future__ import annotations

import json

import pytest

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


def test_ddp_two_processes_match_one_process(tmp_path):
    single = ddp_train.main([*ARGS, "--device", "cpu", "--out", str(tmp_path / "single.json")])
    run_torchrun("bigmodel_lib.training.ddp_train", [*ARGS, "--device", "cpu", "--out", str(tmp_path / "ddp.json")],
                 nproc=2, timeout=300)
    ddp = json.loads((tmp_path / "ddp.json").read_text())
    assert ddp["world_size"] == 2 and ddp["backend"] == "gloo"
    assert single["losses"][-1] < single["losses"][0] - 0.2  # it trains
    # same examples, gradients averaged across ranks: equal up to float round-off
    assert ddp["losses"] == pytest.approx(single["losses"], abs=2e-4)
    assert ddp["val"] == pytest.approx(single["val"], abs=2e-4)

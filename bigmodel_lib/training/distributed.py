"""Data-parallel training with torch.distributed: set-up, tear-down, and launching torchrun.

`torchrun --nproc_per_node=N script` starts N copies of the script with RANK, LOCAL_RANK,
WORLD_SIZE and a rendezvous address in their environment. Each copy calls
`setup_distributed()`, which joins the process group (NCCL between GPUs, gloo on CPU) and
picks this rank's device. The trainer then wraps the model in DistributedDataParallel: every
rank computes gradients on its slice of the global batch and DDP all-reduces (averages)
them during backward, so all ranks take the same optimizer step.

Fully sharded data parallel (FSDP, `TrainConfig(parallel="fsdp")`) goes further: each rank keeps
only 1/N of every parameter and of its optimizer state (`shard_model`). Before a block runs, its
shards are gathered into the full weights and freed after; gradients are reduce-scattered, so each
rank averages and updates only its own shard. Same losses as DDP, about 1/N of the parameter and
optimizer memory per rank (`local_state_bytes` measures it), more communication.

Across machines the same script runs under torchrun with a rendezvous point instead of --standalone
(every node runs this, with its own --node-rank):

    torchrun --nnodes=2 --node-rank=0 --nproc-per-node=8 --rdzv-backend=c10d \\
        --rdzv-endpoint=host0.example:29500 -m bigmodel_lib.training.ddp_train --parallel fsdp ...

On GPUs `setup_distributed` picks NCCL (gloo on CPUs); set NCCL_SOCKET_IFNAME to the network
interface the nodes share if NCCL picks the wrong one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str | None  # None: a single process, no process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_preference: str | None = None) -> DistInfo:
    """Join the process group if launched by torchrun; otherwise describe a single process."""
    from ..device import pick_device

    if "RANK" not in os.environ:  # plain `python script.py`
        return DistInfo(0, 0, 1, pick_device(device_preference), None)
    rank, local_rank, world_size = (int(os.environ[k]) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))
    wanted = pick_device(device_preference)
    if wanted.type == "cuda":
        if torch.cuda.device_count() < int(os.environ.get("LOCAL_WORLD_SIZE", world_size)):
            raise RuntimeError(f"{world_size} processes per node but only {torch.cuda.device_count()} GPU(s).")
        device, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(device)
    else:  # CPU (and MPS, which has no collective backend: fall back to CPU processes)
        device, backend = torch.device("cpu"), "gloo"
    torch.distributed.init_process_group(backend=backend)
    return DistInfo(rank, local_rank, world_size, device, backend)


def cleanup_distributed() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def torchrun_command(module: str, args: list[str], nproc: int = 2) -> list[str]:
    """The command line `torchrun --standalone --nproc_per_node=N -m module args...`."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", module, *args]


def run_torchrun(module: str, args: list[str], nproc: int = 2, timeout: float = 600,
                 env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a module under torchrun in a subprocess (from a notebook or a test); raise with its output on failure."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    result = subprocess.run(torchrun_command(module, args, nproc), capture_output=True, text=True, timeout=timeout,
                            env=full_env)
    if result.returncode != 0:
        raise RuntimeError(f"torchrun failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def shard_model(model: torch.nn.Module) -> torch.nn.Module:
    """Shard `model` in place with FSDP2 (`fully_shard`): each block of every nn.ModuleList (a GPT's
    blocks) is its own unit, gathered just before it runs, then the rest (embeddings, final norm, head)."""
    from torch.distributed.fsdp import fully_shard

    for blocks in [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]:
        for block in blocks:
            fully_shard(block)
    fully_shard(model)
    return model


@contextmanager
def gradient_sync_off(model: torch.nn.Module) -> Iterator[None]:
    """FSDP's counterpart of DDP's `no_sync()`: keep the gradients local during this backward (all
    micro-batches but the last of a step), so they are reduce-scattered once per optimizer step."""
    model.set_requires_gradient_sync(False)
    try:
        yield
    finally:
        model.set_requires_gradient_sync(True)


def local_state_bytes(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Bytes this process holds of the parameters and of the optimizer's state (its shards under FSDP).

    FSDP keeps the root unit's weights (embeddings, final norm) gathered after a forward pass, as the
    backward pass needs them next; they are sharded again first, so the count is the resting state.
    """
    if hasattr(model, "reshard"):
        model.reshard()

    def local(t: torch.Tensor) -> torch.Tensor:
        return t.to_local() if hasattr(t, "to_local") else t

    params = sum(local(p).numel() * p.element_size() for p in model.parameters())
    state = sum(local(v).numel() * v.element_size() for s in optimizer.state.values() for v in s.values()
                if isinstance(v, torch.Tensor))
    return {"parameters": params, "optimizer": state}


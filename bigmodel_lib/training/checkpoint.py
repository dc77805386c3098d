"""Checkpoints that survive interruptions: weights, optimizer, schedule, RNG and data position.

A checkpoint directory holds, per saved step,

    step-000500.safetensors   the model weights (safetensors: no pickle, loads anywhere)
    step-000500.state.pt      optimizer, LR scheduler, grad scaler, RNG and data-position state
                              (plain tensors and numbers, loaded with `weights_only=True`)

and one manifest, `checkpoints.json`, listing the saved steps with the SHA-256 of each file.
Every file is written to a temporary name and renamed into place (`bigmodel_lib.io.atomic_path`),
and the manifest is rewritten only after both files of a step are complete. So a run killed
while saving leaves the previous checkpoint (and the manifest pointing at it) untouched, and a
file damaged later is caught by its checksum with a clear error instead of loading garbage.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from ..io import atomic_path, atomic_write_text, sha256_file

MANIFEST = "checkpoints.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated or corrupt."""


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DistributedDataParallel and/or torch.compile wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def rng_state() -> dict:
    """Every random-number generator a training step may draw from."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def read_manifest(directory: Path | str) -> list[dict]:
    """The saved checkpoints, oldest first (empty if none were saved)."""
    path = Path(directory) / MANIFEST
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["checkpoints"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise CheckpointError(f"The checkpoint manifest {path} is unreadable ({error}). Delete it to start afresh.") from error
    return entries


def latest_step(directory: Path | str) -> int | None:
    entries = read_manifest(directory)
    return entries[-1]["step"] if entries else None


def save_checkpoint(
    directory: Path | str,
    *,
    model: torch.nn.Module,
    step: int,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    scaler=None,
    data=None,
    extra: dict | None = None,
    keep: int = 2,
) -> Path:
    """Save step `step` (weights + training state) atomically; keep the newest `keep` steps."""
    from safetensors.torch import save_model

    if keep < 1:
        raise ValueError("keep must be at least 1.")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"step-{step:06d}"
    weights, state_file = directory / f"{stem}.safetensors", directory / f"{stem}.state.pt"
    with atomic_path(weights) as tmp:
        save_model(unwrap_model(model), str(tmp))  # handles tied weights (wte / lm_head)
    state = {
        "step": step,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "data": data.state_dict() if data is not None and hasattr(data, "state_dict") else None,
        "rng": rng_state(),
        "extra": extra or {},
    }
    with atomic_path(state_file) as tmp:
        torch.save(state, tmp)
    entry = {"step": step, "weights": weights.name, "state": state_file.name,
             "sha256": {weights.name: sha256_file(weights), state_file.name: sha256_file(state_file)}}
    entries = [e for e in read_manifest(directory) if e["step"] != step] + [entry]
    entries.sort(key=lambda e: e["step"])
    kept, dropped = entries[-keep:], entries[:-keep]
    atomic_write_text(directory / MANIFEST, json.dumps({"checkpoints": kept}, indent=1))  # the commit point
    for old in dropped:  # only after the manifest no longer names them
        for name in (old["weights"], old["state"]):
            (directory / name).unlink(missing_ok=True)
    return weights


def verify_checkpoint(directory: Path | str, entry: dict) -> None:
    """Raise CheckpointError if a file of `entry` is missing or does not match its checksum."""
    directory = Path(directory)
    others = [e["step"] for e in read_manifest(directory) if e["step"] != entry["step"]]
    advice = (f" Earlier checkpoints still in place: steps {others}; load one with step=N." if others
              else " No other checkpoint is saved.")
    for name, expected in entry["sha256"].items():
        path = directory / name
        if not path.exists():
            raise CheckpointError(f"Checkpoint step {entry['step']}: file {path} is missing.{advice}")
        actual = sha256_file(path)
        if actual != expected:
            raise CheckpointError(
                f"Checkpoint step {entry['step']}: {path.name} is corrupt or truncated "
                f"({path.stat().st_size} bytes, SHA-256 {actual[:12]}… but {expected[:12]}… was saved).{advice}"
            )


def load_checkpoint(
    directory: Path | str,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    scaler=None,
    data=None,
    step: int | None = None,
    restore_rng: bool = True,
) -> dict:
    """Load the newest checkpoint (or `step`) into the given objects; returns {'step', 'extra'}."""
    from safetensors.torch import load_model

    directory = Path(directory)
    entries = read_manifest(directory)
    if not entries:
        raise CheckpointError(f"No checkpoint in {directory} (no {MANIFEST}).")
    if step is None:
        entry = entries[-1]
    else:
        matches = [e for e in entries if e["step"] == step]
        if not matches:
            raise CheckpointError(f"No checkpoint for step {step} in {directory}; saved: {[e['step'] for e in entries]}.")
        entry = matches[0]
    verify_checkpoint(directory, entry)
    try:
        state = torch.load(directory / entry["state"], map_location="cpu", weights_only=True)
        missing, unexpected = load_model(unwrap_model(model), str(directory / entry["weights"]), strict=False)
    except Exception as error:  # checksums matched, so this is a model/code mismatch
        raise CheckpointError(f"Checkpoint step {entry['step']} in {directory} could not be loaded: {error}") from error
    if missing or unexpected:
        raise CheckpointError(
            f"Checkpoint step {entry['step']} does not fit this model: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}. Build the model with the config it was trained with."
        )
    if optimizer is not None and state["optimizer"] is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state["scaler"] is not None:
        scaler.load_state_dict(state["scaler"])
    if data is not None and state["data"] is not None:
        data.load_state_dict(state["data"])
    if restore_rng:
        set_rng_state(state["rng"])
    return {"step": state["step"], "extra": state["extra"]}

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
`recover_checkpoints` (called when a run resumes) removes what a kill mid-save left behind and
rebuilds a lost manifest from the checkpoint files that still load.
"""

from __future__ import annotations

import json
import random
import re
import warnings
from pathlib import Path

import numpy as np
import torch

from ..io import atomic_path, atomic_write_text, remove_partial_files, sha256_file

MANIFEST = "checkpoints.json"
STEP_FILE = re.compile(r"step-(\d+)\.(safetensors|state\.pt)")


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
        raise CheckpointError(f"The checkpoint manifest {path} is unreadable ({error}); delete it, and "
                              "fit(resume=True) rebuilds it from the checkpoint files that load.") from error
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
    advice = (f" Earlier checkpoints still in place: steps {others}; resume from one with "
              "Trainer.fit(resume=True, step=N) or load it with load_checkpoint(..., step=N)." if others
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
    from safetensors.torch import load_file

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
        weights = load_file(directory / entry["weights"])
    except Exception as error:  # checksums matched, so this is a model/code mismatch
        raise CheckpointError(f"Checkpoint step {entry['step']} in {directory} could not be loaded: {error}") from error
    mismatch = _mismatch(unwrap_model(model), weights)
    if mismatch:  # checked before anything is copied: on error the model is untouched
        raise CheckpointError(f"Checkpoint step {entry['step']} in {directory} does not fit this model: {mismatch}. "
                              "Build the model with the config it was trained with.")
    unwrap_model(model).load_state_dict(weights, strict=False)  # strict=False: a tied tensor is saved once
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


def _mismatch(model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> str:
    """What keeps `weights` (a saved state dict) from loading into `model`; '' if it fits.

    A tensor shared by several names (tied wte / lm_head) is saved under one of them.
    """
    expected = model.state_dict()
    unexpected = sorted(set(weights) - set(expected))
    shapes = sorted(f"{name} {tuple(weights[name].shape)} vs {tuple(expected[name].shape)}"
                    for name in set(weights) & set(expected) if weights[name].shape != expected[name].shape)
    saved_storage = {expected[name].data_ptr() for name in weights if name in expected}
    missing = sorted(name for name, tensor in expected.items()
                     if name not in weights and tensor.data_ptr() not in saved_storage)
    problems = [f"{label} {names[:3]}{' …' if len(names) > 3 else ''}"
                for label, names in (("shapes differ:", shapes), ("missing", missing), ("unexpected", unexpected))
                if names]
    return "; ".join(problems)


def recover_checkpoints(directory: Path | str) -> list[dict]:
    """Tidy a checkpoint folder before a run continues in it; returns its checkpoints, oldest first.

    Removes the temporary files and the uncommitted step files (not named in the manifest) that a
    kill mid-save leaves. If the manifest is missing or empty while pairs of step files are there
    (deleted by hand, or a kill during the very first save), rebuilds it from the pairs that load
    rather than treating the folder as empty, and refuses (CheckpointError) if none loads. Run it
    on one process only.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    remove_partial_files(directory)
    on_disk = _step_files(directory)
    entries = read_manifest(directory)
    if entries:
        named = {name for entry in entries for name in (entry["weights"], entry["state"])}
        for path in (path for paths in on_disk.values() for path in paths if path.name not in named):
            path.unlink(missing_ok=True)
        return entries
    pairs = {step: paths for step, paths in on_disk.items() if len(paths) == 2}
    if not pairs:  # at most a kill during the first save: nothing was ever committed
        return []
    entries = [entry for step, paths in sorted(pairs.items()) if (entry := _verified_entry(step, paths))]
    if not entries:  # refuse rather than start afresh over what may be a long run's only copy
        raise CheckpointError(f"{directory} has no usable {MANIFEST} and none of its checkpoint files loads; "
                              "move that folder away to start afresh.")
    atomic_write_text(directory / MANIFEST, json.dumps({"checkpoints": entries}, indent=1))
    warnings.warn(f"{directory / MANIFEST} was missing or empty: rebuilt it from the checkpoint files that load "
                  f"(steps {[entry['step'] for entry in entries]}).", stacklevel=2)
    return entries


def _step_files(directory: Path) -> dict[int, list[Path]]:
    found: dict[int, list[Path]] = {}
    for path in directory.iterdir():
        match = STEP_FILE.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault(int(match.group(1)), []).append(path)
    return found


def _verified_entry(step: int, paths: list[Path]) -> dict | None:
    """A manifest entry for step `step` if both its files are there and load, else None."""
    from safetensors.torch import load_file

    names = {path.name for path in paths}
    stem = f"step-{step:06d}"
    weights, state_file = paths[0].parent / f"{stem}.safetensors", paths[0].parent / f"{stem}.state.pt"
    if {weights.name, state_file.name} - names:
        return None
    try:
        load_file(weights)
        state = torch.load(state_file, map_location="cpu", weights_only=True)
    except Exception:  # truncated or not ours: not a checkpoint to resume from
        return None
    if not isinstance(state, dict) or state.get("step") != step:
        return None
    return {"step": step, "weights": weights.name, "state": state_file.name,
            "sha256": {weights.name: sha256_file(weights), state_file.name: sha256_file(state_file)}}

"""Checkpoints: exact resume after an interruption, atomic writes, clear errors on damage."""

from __future__ import annotations

import json

import pytest
import torch

from bigmodel_lib.training import checkpoint as ckpt
from bigmodel_lib.training.batches import TokenWindows, split_tokens
from bigmodel_lib.training.checkpoint import CheckpointError, load_checkpoint, read_manifest, save_checkpoint
from bigmodel_lib.training.trainer import TrainConfig, Trainer
from tests._training_fixtures import one_thread, shakespeare_tokens, tiny_gpt

single_thread = pytest.fixture(autouse=True, scope="module")(one_thread)
CONFIG = dict(max_steps=12, batch_size=4, lr=3e-3, warmup_steps=3, eval_every=4, eval_batches=2,
              checkpoint_every=4, progress=False)


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def tokens():
    return shakespeare_tokens(20_000)


def make_trainer(tokens, out_dir, seed=0, callbacks=()):
    """A fresh model (dropout on, so the RNG state matters), data and trainer."""
    ids, vocab = tokens
    torch.manual_seed(seed)
    model = tiny_gpt(vocab, dropout=0.2)
    data = TokenWindows(*split_tokens(ids), block_size=16, seed=seed)
    return Trainer(model, data, TrainConfig(**CONFIG), device="cpu", out_dir=out_dir, callbacks=callbacks)


def interrupt_at(step):
    def callback(trainer, row):
        if row["step"] == step:
            raise Interrupted(f"killed at step {step}")

    return callback


def test_resume_reproduces_the_uninterrupted_run_exactly(tokens, tmp_path):
    torch.manual_seed(0)
    full = make_trainer(tokens, tmp_path / "full").fit()

    torch.manual_seed(0)
    with pytest.raises(Interrupted):  # dies at step 10; the last checkpoint is step 8
        make_trainer(tokens, tmp_path / "cut", callbacks=(interrupt_at(10),)).fit()
    assert [e["step"] for e in read_manifest(tmp_path / "cut" / "checkpoints")] == [4, 8]

    torch.manual_seed(123)  # a different process state: everything must come from the checkpoint
    resumed_trainer = make_trainer(tokens, tmp_path / "cut", seed=7)
    resumed = resumed_trainer.fit(resume=True)
    assert [r["step"] for r in resumed.history] == [9, 10, 11, 12]
    assert resumed.losses == full.losses[8:]  # bit-for-bit on CPU
    assert resumed.evals == full.evals
    for a, b in zip(resumed_trainer.model.parameters(), make_loaded(tokens, tmp_path / "full").parameters(), strict=True):
        assert torch.equal(a, b)
    # the CSV log holds each step once, as if there had been no interruption
    lines = (tmp_path / "cut" / "metrics.csv").read_text().splitlines()
    assert len(lines) == 1 + 12 + 3


def make_loaded(tokens, out_dir):
    model = tiny_gpt(tokens[1], dropout=0.2)
    load_checkpoint(out_dir / "checkpoints", model=model, restore_rng=False)
    return model


def test_files_are_safetensors_and_weights_only(tokens, tmp_path):
    from safetensors.torch import load_file

    model = tiny_gpt(tokens[1])
    save_checkpoint(tmp_path, model=model, step=3)
    entry = read_manifest(tmp_path)[-1]
    weights = load_file(tmp_path / entry["weights"])
    assert len([k for k in weights if k in ("lm_head.weight", "transformer.wte.weight")]) == 1  # tied: stored once
    state = torch.load(tmp_path / entry["state"], weights_only=True)
    assert state["step"] == 3 and set(state["rng"]) >= {"torch", "python", "numpy"}


def test_truncated_checkpoint_gives_a_clear_error_and_keeps_the_previous(tokens, tmp_path):
    model = tiny_gpt(tokens[1])
    save_checkpoint(tmp_path, model=model, step=4)
    torch.nn.init.zeros_(model.transformer.wpe.weight)
    save_checkpoint(tmp_path, model=model, step=8)
    newest = tmp_path / read_manifest(tmp_path)[-1]["weights"]
    newest.write_bytes(newest.read_bytes()[:100])  # truncated, e.g. a full disk
    with pytest.raises(CheckpointError, match=r"step 8.*corrupt or truncated.*steps \[4\]"):
        load_checkpoint(tmp_path, model=tiny_gpt(tokens[1]))
    fresh = tiny_gpt(tokens[1])
    assert load_checkpoint(tmp_path, model=fresh, step=4)["step"] == 4  # the previous one still loads
    assert not torch.equal(fresh.transformer.wpe.weight, torch.zeros_like(fresh.transformer.wpe.weight))


def test_crash_while_saving_leaves_the_previous_checkpoint(tokens, tmp_path, monkeypatch):
    model = tiny_gpt(tokens[1])
    save_checkpoint(tmp_path, model=model, step=4)
    before = sorted(p.name for p in tmp_path.iterdir())

    def dying_save(obj, path):
        with open(path, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.torch, "save", dying_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, model=model, step=8)
    monkeypatch.undo()
    assert json.loads((tmp_path / "checkpoints.json").read_text())["checkpoints"][-1]["step"] == 4
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert "step-000008.state.pt" not in leftovers and not [p for p in leftovers if p.endswith(".partial")]
    assert set(before) <= set(leftovers)
    assert load_checkpoint(tmp_path, model=tiny_gpt(tokens[1]))["step"] == 4


def test_wrong_model_and_missing_checkpoint_errors(tokens, tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_checkpoint(tmp_path, model=tiny_gpt(tokens[1]))
    save_checkpoint(tmp_path, model=tiny_gpt(tokens[1]), step=1)
    with pytest.raises(CheckpointError, match="could not be loaded|does not fit"):
        load_checkpoint(tmp_path, model=tiny_gpt(tokens[1], n_embd=48))

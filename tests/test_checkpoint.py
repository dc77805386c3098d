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


def interrupted_run(tokens, out_dir, at=10):
    """A run killed at step `at` (checkpoints at steps 4 and 8 stay)."""
    torch.manual_seed(0)
    with pytest.raises(Interrupted):
        make_trainer(tokens, out_dir, callbacks=(interrupt_at(at),)).fit()


def metric_steps(out_dir, kind="train"):
    rows = (tmp.split(",") for tmp in (out_dir / "metrics.csv").read_text().splitlines()[1:])
    return [int(row[1]) for row in rows if row[0] == kind]


@pytest.mark.parametrize("damage", ["deleted", "empty", "garbled"])
def test_resume_with_a_lost_manifest_rebuilds_it_and_keeps_the_run(tokens, tmp_path, damage):
    torch.manual_seed(0)
    full = make_trainer(tokens, tmp_path / "full").fit()
    interrupted_run(tokens, tmp_path / "cut")
    manifest = tmp_path / "cut" / "checkpoints" / "checkpoints.json"
    if damage == "deleted":
        manifest.unlink()
    elif damage == "empty":
        manifest.write_text(json.dumps({"checkpoints": []}))
    else:
        manifest.write_text('{"checkpoints": [{"step": 4,')
        with pytest.raises(CheckpointError, match=r"unreadable .*delete it, and fit\(resume=True\) rebuilds it"):
            make_trainer(tokens, tmp_path / "cut").fit(resume=True)
        manifest.unlink()  # as the error advises
    with pytest.warns(UserWarning, match=r"rebuilt it .*steps \[4, 8\]"):
        resumed = make_trainer(tokens, tmp_path / "cut", seed=7).fit(resume=True)
    assert [r["step"] for r in resumed.history] == [9, 10, 11, 12]  # not a fresh start at step 1
    assert resumed.losses == full.losses[8:]
    assert metric_steps(tmp_path / "cut") == list(range(1, 13))  # the log of steps 1-8 survived
    assert [e["step"] for e in read_manifest(tmp_path / "cut" / "checkpoints")] == [8, 12]


def test_resume_refuses_when_no_checkpoint_file_loads(tokens, tmp_path):
    interrupted_run(tokens, tmp_path)
    folder = tmp_path / "checkpoints"
    (folder / "checkpoints.json").unlink()
    for weights in folder.glob("*.safetensors"):
        weights.write_bytes(weights.read_bytes()[:100])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(CheckpointError, match=r"no usable checkpoints.json.*move that folder away") as error:
        make_trainer(tokens, tmp_path).fit(resume=True)
    assert "\n" not in str(error.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing deleted or moved


def test_a_fresh_run_moves_an_earlier_run_aside(tokens, tmp_path):
    torch.manual_seed(0)
    make_trainer(tokens, tmp_path).fit()
    earlier_log = (tmp_path / "metrics.csv").read_text()
    with pytest.warns(UserWarning, match="held an earlier run"):
        make_trainer(tokens, tmp_path, seed=3).fit()  # no resume: a new run in the same folder
    (moved,) = (tmp_path / "earlier-runs").iterdir()
    assert (moved / "metrics.csv").read_text() == earlier_log
    assert [e["step"] for e in read_manifest(moved / "checkpoints")] == [8, 12]
    assert load_checkpoint(moved / "checkpoints", model=tiny_gpt(tokens[1], dropout=0.2))["step"] == 12
    assert metric_steps(tmp_path) == list(range(1, 13))  # the new run's own log


def test_resume_removes_what_a_kill_mid_save_left(tokens, tmp_path):
    interrupted_run(tokens, tmp_path)
    folder = tmp_path / "checkpoints"
    (folder / ".step-000012.safetensors.abc123.partial").write_bytes(b"x" * 1000)  # killed while writing
    (folder / "step-000012.safetensors").write_bytes(b"y" * 1000)  # renamed, but never in the manifest
    (folder / "step-000000.state.pt").write_bytes(b"z")  # rotated out of the manifest, not yet deleted
    (tmp_path / ".metrics.csv.xyz.partial").write_text("half")
    make_trainer(tokens, tmp_path, callbacks=(interrupt_at(9),)).resume()
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoints.json", "step-000004.safetensors", "step-000004.state.pt",
        "step-000008.safetensors", "step-000008.state.pt"]
    with pytest.raises(Interrupted):
        make_trainer(tokens, tmp_path, callbacks=(interrupt_at(9),)).fit(resume=True)
    assert not list(tmp_path.glob(".*.partial"))


def test_the_advice_on_a_damaged_checkpoint_works(tokens, tmp_path):
    torch.manual_seed(0)
    full = make_trainer(tokens, tmp_path / "full").fit()
    interrupted_run(tokens, tmp_path / "cut")
    folder = tmp_path / "cut" / "checkpoints"
    newest = folder / read_manifest(folder)[-1]["weights"]
    newest.write_bytes(newest.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"steps \[4\]; resume from one with Trainer.fit\(resume=True, step=N\)"):
        make_trainer(tokens, tmp_path / "cut").fit(resume=True)
    resumed = make_trainer(tokens, tmp_path / "cut", seed=7).fit(resume=True, step=4)
    assert [r["step"] for r in resumed.history] == list(range(5, 13))
    assert resumed.losses == full.losses[4:]
    assert metric_steps(tmp_path / "cut") == list(range(1, 13))
    with pytest.raises(ValueError, match="pass resume=True"):
        make_trainer(tokens, tmp_path / "cut").fit(step=4)


def test_every_logged_step_reaches_the_file_at_once(tokens, tmp_path):
    seen = []

    def read_log(trainer, row):
        seen.append(metric_steps(tmp_path)[-1:])

    torch.manual_seed(0)
    trainer = make_trainer(tokens, tmp_path, callbacks=(read_log,))
    trainer.fit()
    assert seen == [[step] for step in range(1, 13)]  # each row is in the file before the next step


def test_loading_into_a_wrong_shaped_model_leaves_it_untouched(tokens, tmp_path):
    save_checkpoint(tmp_path, model=tiny_gpt(tokens[1]), step=1)
    torch.manual_seed(5)
    longer = tiny_gpt(tokens[1], block_size=32)  # only wpe differs in shape
    before = {name: t.clone() for name, t in longer.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"does not fit this model: shapes differ: \['transformer.wpe.weight"):
        load_checkpoint(tmp_path, model=longer)
    for name, tensor in longer.state_dict().items():
        assert torch.equal(tensor, before[name]), name

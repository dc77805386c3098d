"""The training loop: schedule, optimizer groups, gradient accumulation, mixed precision, logging."""

from __future__ import annotations

import csv
import math
import os
import sys

import pytest
import torch

from bigmodel_lib.numerics import check_matches, transformer_roundings
from bigmodel_lib.training.batches import TokenWindows, split_tokens
from bigmodel_lib.training.schedules import WarmupCosine
from bigmodel_lib.training.trainer import (
    TrainConfig,
    Trainer,
    autocast_context,
    enable_activation_checkpointing,
    make_optimizer,
    train_step,
)
from tests._training_fixtures import FixedBatches, one_thread, shakespeare_tokens, tiny_gpt

QUIET = dict(progress=False, eval_batches=2)
single_thread = pytest.fixture(autouse=True, scope="module")(one_thread)


@pytest.fixture(scope="module")
def tokens():
    return shakespeare_tokens()


def windows(tokens, block_size=16, seed=0):
    ids, _ = tokens
    train, val = split_tokens(ids)
    return TokenWindows(train, val, block_size, seed=seed)


def tiny(tokens, seed=0, **kwargs):
    torch.manual_seed(seed)
    return tiny_gpt(tokens[1], **kwargs)


def test_schedule_matches_torch_schedulers():
    """Linear warm-up then cosine to 10 %, as torch's LinearLR followed by CosineAnnealingLR.

    (It is also `transformers.get_cosine_with_min_lr_schedule_with_warmup`; the chapter checks that.)
    """
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    warmup = LinearLR(optimizer, start_factor=1e-12, end_factor=1.0, total_iters=10)
    cosine = CosineAnnealingLR(optimizer, T_max=90, eta_min=0.1)
    reference = SequentialLR(optimizer, [warmup, cosine], milestones=[10])
    ours = WarmupCosine(10, 100, 0.1)
    for step in range(100):
        assert math.isclose(ours(step), reference.get_last_lr()[0], rel_tol=1e-6, abs_tol=1e-9), step
        optimizer.step()
        reference.step()
    assert ours(0) == 0.0 and ours(10) == 1.0 and ours(10_000) == 0.1


def test_weight_decay_only_on_matrices(tokens):
    model = tiny(tokens)
    groups = make_optimizer(model, 1e-3, 0.1).param_groups
    assert groups[0]["weight_decay"] == 0.1 and all(p.dim() >= 2 for p in groups[0]["params"])
    assert groups[1]["weight_decay"] == 0.0 and all(p.dim() == 1 for p in groups[1]["params"])
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(p.numel() for p in model.parameters())


def sgd_step(model, micro_batches, grad_clip=None):
    """One `train_step` with plain SGD at lr 1: the parameters move by exactly minus the (clipped) gradient."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    before = [p.detach().clone() for p in model.parameters()]
    loss, norm = train_step(model, optimizer, scheduler, scaler, micro_batches, grad_clip=grad_clip)
    return loss, norm, [b - p.detach() for b, p in zip(before, model.parameters(), strict=True)]


@pytest.mark.reference
def test_train_step_accumulation_equals_one_big_batch(tokens):
    x, y = windows(tokens).get_batch("train", 16)
    loss1, _, step1 = sgd_step(tiny(tokens), [(x, y)])
    loss4, _, step4 = sgd_step(tiny(tokens), [(x[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)])
    # Four means of 4·T losses summed instead of one mean of 16·T: the tiny model's round-off, relative to the loss
    # (~log V) and to the largest gradient.
    cfg = tiny(tokens).config
    terms = transformer_roundings(cfg.n_layer, cfg.n_embd, 4 * cfg.n_embd, cfg.n_embd // cfg.n_head, cfg.block_size)
    terms += 16 * cfg.block_size
    check_matches("accumulated loss", float(loss4), float(loss1), terms=terms)
    for i, (g1, g4) in enumerate(zip(step1, step4, strict=True)):
        check_matches(f"accumulated gradient {i}", g4, g1, terms=terms, magnitude=max(float(g1.abs().max()), 1e-30))


def test_train_step_clipping_bounds_the_update(tokens):
    batch = [windows(tokens).get_batch("train", 8)]
    _, norm, free = sgd_step(tiny(tokens), batch)
    assert math.isnan(float(norm))  # no clipping: no norm computed
    _, norm, clipped = sgd_step(tiny(tokens), batch, grad_clip=0.1)
    update_norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(u) for u in clipped])))
    free_norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(u) for u in free])))
    assert float(norm) == pytest.approx(free_norm, rel=1e-4)  # the norm returned is the one before clipping
    assert free_norm > 0.1 and update_norm == pytest.approx(0.1, rel=1e-4)  # clipped to the bound, direction kept
    cosine = sum(float((a * b).sum()) for a, b in zip(free, clipped, strict=True)) / (free_norm * update_norm)
    assert cosine == pytest.approx(1.0, abs=1e-5)


def test_train_step_returns_tensors_and_fit_reads_them_once_per_interval(tokens, monkeypatch):
    """No host sync per step: the step returns device tensors; fit reads them at log points only."""
    batch = [windows(tokens).get_batch("train", 4)]
    loss, norm, _ = sgd_step(tiny(tokens), batch, grad_clip=1.0)
    assert isinstance(loss, torch.Tensor) and isinstance(norm, torch.Tensor)
    reads = {"n": 0}
    for name in ("item", "tolist", "__float__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            # the trainer's own reads (AdamW's CPU step counters are read inside torch, without a device sync)
            reads["n"] += sys._getframe(1).f_code.co_filename.endswith(os.path.join("training", "trainer.py"))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    config = TrainConfig(max_steps=40, batch_size=4, log_every=20, eval_every=0, **QUIET)
    result = Trainer(tiny(tokens), windows(tokens), config, device="cpu").fit()
    assert len(result.history) == 40 and all(isinstance(r["loss"], float) for r in result.history)
    # reads: after step 1, 20 and 40 (one each), and the final evaluation's two splits; none per step
    assert reads["n"] <= 6, f"{reads['n']} reads of device values in 40 steps"


@pytest.mark.reference
def test_gradient_accumulation_in_the_trainer_gives_the_same_run(tokens):
    big = [windows(tokens).get_batch("train", 16) for _ in range(3)]  # three optimizer steps of 16 sequences
    config = dict(max_steps=3, warmup_steps=1, lr=3e-3, eval_every=0, eval_batches=1, progress=False)
    one = Trainer(tiny(tokens), FixedBatches(big), TrainConfig(batch_size=16, **config), device="cpu")
    four = Trainer(tiny(tokens), FixedBatches(big, split_into=4),
                   TrainConfig(batch_size=4, grad_accum=4, **config), device="cpu")
    # whole training steps give the same losses (Adam amplifies round-off in near-zero
    # gradients such as the key bias's, so later steps agree to 1e-4, not bit for bit)
    r1, r4 = one.fit(), four.fit()
    assert r1.losses == pytest.approx(r4.losses, abs=1e-4)


def test_bf16_autocast_tracks_fp32(tokens):
    """bf16 autocast (8-bit mantissa in matmuls) stays within 0.05 nats of fp32 over 40 steps."""
    config = dict(max_steps=40, batch_size=8, lr=3e-3, warmup_steps=5, eval_every=0, **QUIET)
    runs = {p: Trainer(tiny(tokens), windows(tokens), TrainConfig(precision=p, **config), device="cpu").fit()
            for p in ("fp32", "bf16")}
    fp32, bf16 = runs["fp32"].losses, runs["bf16"].losses
    assert fp32[-1] < fp32[0] - 0.5  # it learned something
    assert max(abs(a - b) for a, b in zip(fp32, bf16, strict=True)) < 0.05
    assert abs(runs["fp32"].final_val - runs["bf16"].final_val) < 0.05


def test_fp16_needs_cuda():
    with pytest.raises(ValueError, match="bf16"):
        autocast_context(torch.device("cpu"), "fp16")


@pytest.mark.reference
def test_activation_checkpointing_gives_same_gradients(tokens):
    x, y = windows(tokens).get_batch("train", 4)
    grads = []
    for checkpointed in (False, True):
        model = tiny(tokens)
        if checkpointed:
            assert enable_activation_checkpointing(model) == 2
        model(x, y)[1].backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    # Exact: checkpointing recomputes the same forward with the same kernels, so the gradients are the same bits.
    for a, b in zip(*grads, strict=True):
        assert torch.equal(a, b)


def test_early_stopping_and_csv_log(tokens, tmp_path):
    # lr = 0 after warm-up never improves the model: stop after `patience` evaluations
    config = TrainConfig(max_steps=50, batch_size=4, lr=0.0, warmup_steps=0, eval_every=5,
                         early_stopping_patience=2, **QUIET)
    result = Trainer(tiny(tokens), windows(tokens), config, device="cpu", out_dir=tmp_path).fit()
    assert result.stopped_early and result.steps == 15  # best at step 5, no gain at 10 and 15
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["kind"] for r in rows].count("train") == 15 and [r["kind"] for r in rows].count("eval") == 3
    assert result.tokens == 15 * 4 * 16 and result.tokens_per_s > 0


def test_training_reduces_validation_loss(tokens):
    config = TrainConfig(max_steps=60, batch_size=8, lr=3e-3, warmup_steps=5, eval_every=30, eval_at_start=True,
                         **QUIET)
    result = Trainer(tiny(tokens), windows(tokens), config, device="cpu").fit()
    assert [e["step"] for e in result.evals] == [0, 30, 60]
    assert result.evals[-1]["val"] < result.evals[0]["val"] - 0.8
    assert result.history[0]["lr"] == 0.0 and result.history[5]["lr"] == pytest.approx(3e-3)


@pytest.mark.parametrize("bad, message", [
    (dict(keep_checkpoints=0), "keep_checkpoints must be at least 1"),
    (dict(checkpoint_every=0), "checkpoint_every must be at least 1"),
    (dict(eval_every=-1), "eval_every must be 0"),
    (dict(log_every=0), "log_every must be at least 1"),
])
def test_config_is_checked_before_any_training(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**bad)


def test_checkpoint_every_needs_an_out_dir(tokens):
    with pytest.raises(ValueError, match=r"checkpoint_every=5 needs a folder.*out_dir"):
        Trainer(tiny(tokens), windows(tokens), TrainConfig(checkpoint_every=5, **QUIET), device="cpu")

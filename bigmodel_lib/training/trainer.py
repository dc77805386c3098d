"""One readable training loop for every chapter that trains a model.

    trainer = Trainer(model, data, TrainConfig(max_steps=2000, lr=1e-3), out_dir="build/ch07/run")
    result = trainer.fit()                # or fit(resume=True) after an interruption
    plot_curves(result.history, result.evals)

`model(x, y)` must return `(logits, loss)` (the nanoGPT convention) and `data` must have
`get_batch(split, batch_size, generator=None) -> (x, y)` (e.g. `TokenWindows`), plus
`state_dict()/load_state_dict()` if its position should survive a resume.

One optimizer step = `grad_accum` micro-batches of `batch_size` sequences (per process):
forward under autocast → loss / grad_accum → backward; then unscale → clip → AdamW step →
LR schedule step. The same code runs on CPU, CUDA and MPS, and under DistributedDataParallel or
fully sharded data parallel (`TrainConfig.parallel="fsdp"`) when `torch.distributed` is initialised
(see `distributed.py`).

That step is the function `train_step`; it returns the loss as a tensor on the device, and `fit`
reads the losses back once per `log_every` steps (and at evaluations, checkpoints and callbacks),
so the device never waits for the host in between.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch

from ..io import atomic_write_bytes, remove_partial_files
from .checkpoint import latest_step, load_checkpoint, recover_checkpoints, save_checkpoint, unwrap_model
from .distributed import gradient_sync_off, shard_model
from .schedules import WarmupCosine

PRECISIONS = ("fp32", "bf16", "fp16")
PARALLEL = ("ddp", "fsdp")
METRIC_FIELDS = ["kind", "step", "loss", "val", "lr", "grad_norm", "tokens_per_s"]
# what a run writes into out_dir; moved aside in this order, so a kill midway never leaves checkpoints without their log
RUN_FILES = ("checkpoints", "metrics.csv", "tensorboard")
EARLIER_RUNS = "earlier-runs"  # where a fresh run moves the RUN_FILES of the run before it


@dataclass
class TrainConfig:
    max_steps: int = 2000
    batch_size: int = 12  # sequences per micro-batch, per process
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float = 1e-3  # peak learning rate
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 100
    weight_decay: float = 0.1  # on matrices only (see make_optimizer)
    betas: tuple[float, float] = (0.9, 0.95)
    optimizer: str = "adamw"  # "muon": Muon for the blocks' matrices, AdamW for the rest (training/optimizers.py)
    grad_clip: float | None = 1.0  # max global gradient norm; None = no clipping
    precision: str = "fp32"  # "fp32", "bf16" (autocast, any device) or "fp16" (CUDA, with GradScaler)
    compile: bool = False  # torch.compile the model
    activation_checkpointing: bool = False  # recompute each block's activations in backward
    parallel: str = "ddp"  # under torch.distributed: "ddp" (a full copy per process) or "fsdp" (sharded)
    eval_every: int = 250  # evaluate every N steps (and at the end); 0 = only at the end
    eval_batches: int = 20
    eval_batch_size: int | None = None  # defaults to batch_size
    eval_at_start: bool = False
    eval_seed: int = 1234  # evaluation draws the same batches every time
    early_stopping_patience: int | None = None  # stop after N evaluations without improvement
    early_stopping_min_delta: float = 0.0
    checkpoint_every: int | None = None  # steps between checkpoints (needs out_dir); the last step is always saved
    keep_checkpoints: int = 2
    log_every: int = 10  # progress-bar refresh (steps)
    progress: bool = True
    desc: str = "train"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}.")
        for name in ("max_steps", "batch_size", "grad_accum", "keep_checkpoints", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be at least 1, got {getattr(self, name)!r}.")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ValueError(f"TrainConfig.checkpoint_every must be at least 1 (or None: only the last step), "
                             f"got {self.checkpoint_every!r}.")
        if self.parallel not in PARALLEL:
            raise ValueError(f"TrainConfig.parallel must be one of {PARALLEL}, got {self.parallel!r}.")
        if self.eval_every < 0:
            raise ValueError(f"TrainConfig.eval_every must be 0 (only at the end) or more, got {self.eval_every!r}.")


@dataclass
class TrainResult:
    # one row per optimizer step: step, loss, lr, grad_norm, tokens, and seconds and tokens_per_s of its log
    # interval (steps are read from the device together, once per interval, so they are timed together)
    history: list[dict]
    evals: list[dict]  # one row per evaluation: step, train, val
    steps: int
    tokens: int  # training tokens seen (all processes)
    train_seconds: float  # time in training steps (evaluation excluded)
    wall_seconds: float
    stopped_early: bool = False
    config: dict = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.train_seconds if self.train_seconds > 0 else float("nan")

    @property
    def final_val(self) -> float:
        return self.evals[-1]["val"] if self.evals else float("nan")

    @property
    def best_val(self) -> float:
        return min((e["val"] for e in self.evals), default=float("nan"))

    @property
    def losses(self) -> list[float]:
        return [row["loss"] for row in self.history]


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float, betas=(0.9, 0.95), device_type: str = "cpu",
                   kind: str = "adamw"):
    """AdamW with weight decay on matrices (≥2-D: linear and embedding weights) only; `kind="muon"`: Muon
    for the blocks' matrices (`MuonAdamW`).

    Biases and LayerNorm gains are 1-D; decaying them towards zero only hurts.
    """
    if kind not in ("adamw", "muon"):
        raise ValueError(f"TrainConfig.optimizer must be 'adamw' or 'muon', got {kind!r}.")
    if kind == "muon":
        from .optimizers import MuonAdamW, muon_param_groups

        if any(_is_sharded(p) for p in model.parameters()):
            raise ValueError("Muon orthogonalises whole matrices and this model is sharded (FSDP): "
                             "use TrainConfig(parallel='ddp') or optimizer='adamw'.")

        return MuonAdamW(muon_param_groups(model, weight_decay), lr=lr, betas=betas)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # one kernel for the whole update (CUDA and CPU; MPS and sharded models keep the per-tensor loop)
    fused = device_type in ("cuda", "cpu") and not any(_is_sharded(p) for p in params)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=fused)


def _is_sharded(p: torch.Tensor) -> bool:
    return type(p).__name__ == "DTensor"


def autocast_context(device: torch.device, precision: str):
    """`torch.autocast` for bf16/fp16, or a no-op for fp32."""
    if precision == "fp32":
        return nullcontext()
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"fp16 training needs CUDA (with a gradient scaler); on {device.type} use precision='bf16'.")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def enable_activation_checkpointing(model: torch.nn.Module, block_class_names: tuple[str, ...] = ("Block",)) -> int:
    """Make every transformer block recompute its activations during backward.

    Saves the memory of all intermediate activations inside a block for one extra forward
    pass. Only active when gradients are being computed. Returns the number of blocks wrapped.
    """
    from torch.utils.checkpoint import checkpoint

    wrapped = 0
    for module in model.modules():
        if type(module).__name__ in block_class_names and not getattr(module, "_checkpointed", False):
            original = module.forward

            def forward(*args, _original=original, **kwargs):
                if torch.is_grad_enabled():
                    return checkpoint(_original, *args, use_reentrant=False, **kwargs)
                return _original(*args, **kwargs)

            module.forward = forward
            module._checkpointed = True
            wrapped += 1
    if wrapped == 0:
        raise ValueError(f"No module of class {block_class_names} found to checkpoint; pass block_class_names=(...).")
    return wrapped


def _distributed():
    """(is_distributed, rank, world_size)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return True, torch.distributed.get_rank(), torch.distributed.get_world_size()
    return False, 0, 1


def _mean_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """The mean of `value` over the processes (itself in a single process); `value` is not changed."""
    if _distributed()[0]:
        value = value.detach().clone()
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.SUM)
        value /= torch.distributed.get_world_size()
    return value


@torch.no_grad()
def estimate_loss(
    model: torch.nn.Module,
    data,
    *,
    batch_size: int,
    batches: int = 20,
    seed: int = 1234,
    device: torch.device | None = None,
    precision: str = "fp32",
    splits: tuple[str, ...] = ("train", "val"),
) -> dict[str, float]:
    """Mean loss over `batches` batches per split, drawn with a fixed seed (same batches each call)."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = {}
    for split in splits:
        generator = torch.Generator().manual_seed(seed)
        total = torch.zeros((), device=device)
        for _ in range(batches):
            x, y = data.get_batch(split, batch_size, generator=generator)
            with autocast_context(device, precision):
                _, loss = model(x, y)
            total += loss.float()
        out[split] = float(_mean_over_ranks(total / batches))
    model.train(was_training)
    return out


def train_step(model, optimizer, scheduler, scaler, micro_batches, *, precision="fp32", grad_clip=None,
               no_sync=None):
    """One optimizer step over `micro_batches` [(x, y), ...]; returns (mean loss, gradient norm) as tensors.

    Each micro-batch's loss is divided by their number, so the summed gradients are the gradient of the
    mean loss over all of them: k micro-batches of b sequences step like one batch of k·b sequences.
    """
    device = next(model.parameters()).device
    loss_sum = torch.zeros((), device=device)
    for i, (x, y) in enumerate(micro_batches):
        last = i == len(micro_batches) - 1
        with nullcontext() if last or no_sync is None else no_sync():  # DDP: all-reduce once, at the last
            with autocast_context(device, precision):
                _, loss = model(x, y)
                loss = loss / len(micro_batches)
            scaler.scale(loss).backward()  # fp16: scaled so small gradients do not underflow
        loss_sum += loss.detach().float()  # stays on the device: no host sync
    grad_norm = torch.full((), float("nan"), device=device)
    if grad_clip is not None:
        scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)  # fp16: skipped if a gradient overflowed
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    scheduler.step()
    return loss_sum, grad_norm


class Trainer:
    """Train `model` on batches from `data` as `config` says; see the module docstring."""

    def __init__(
        self,
        model: torch.nn.Module,
        data,
        config: TrainConfig,
        *,
        device: torch.device | str | None = None,
        out_dir: Path | str | None = None,
        callbacks: tuple[Callable[[Trainer, dict], None], ...] = (),
    ):
        from ..device import pick_device

        if config.checkpoint_every is not None and out_dir is None:
            raise ValueError(f"TrainConfig.checkpoint_every={config.checkpoint_every} needs a folder to save into: "
                             "pass Trainer(..., out_dir=...).")
        self.config = config
        self.device = torch.device(device) if device is not None else pick_device()
        self.model = model.to(self.device)
        self.data = data
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.callbacks = tuple(callbacks)
        self.distributed, self.rank, self.world_size = _distributed()
        if config.activation_checkpointing:
            enable_activation_checkpointing(self.model)
        self.sharded = self.distributed and config.parallel == "fsdp"
        if self.sharded:  # before the optimizer: sharding replaces the parameters by their shards
            if config.checkpoint_every is not None or out_dir is not None:
                raise ValueError("Checkpoints of a sharded (FSDP) model are not written by this trainer: "
                                 "use TrainConfig(parallel='ddp') or train without out_dir.")
            shard_model(self.model)
        self.optimizer = make_optimizer(self.model, config.lr, config.weight_decay, config.betas, self.device.type,
                                        config.optimizer)
        # a run shorter than the warm-up just warms up (smoke runs)
        schedule = WarmupCosine(min(config.warmup_steps, config.max_steps), config.max_steps, config.min_lr_ratio)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=config.precision == "fp16")
        self.train_model = self.model
        if self.distributed and not self.sharded:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if config.compile:
            self.train_model = torch.compile(self.train_model)
        self.step = 0
        self.evals: list[dict] = []
        self._best, self._bad_evals = math.inf, 0
        self._writer = None

    # ---- one optimizer step -------------------------------------------------------------
    def run_step(self) -> tuple[torch.Tensor, torch.Tensor, float, int]:
        """Draw `grad_accum` micro-batches and take one `train_step`: (loss, grad norm, lr, tokens).

        Loss and norm stay tensors on the device: reading them forces a host sync, done at log points only.
        """
        cfg = self.config
        self.train_model.train()
        micro_batches = [self.data.get_batch("train", cfg.batch_size) for _ in range(cfg.grad_accum)]
        lr = self.scheduler.get_last_lr()[0]
        # DDP and FSDP: average the gradients across processes only after the last micro-batch
        no_sync = None
        if self.sharded:
            no_sync = partial(gradient_sync_off, self.model)
        elif self.distributed:
            no_sync = self.train_model.no_sync
        loss, grad_norm = train_step(self.train_model, self.optimizer, self.scheduler, self.scaler, micro_batches,
                                     precision=cfg.precision, grad_clip=cfg.grad_clip, no_sync=no_sync)
        if self.sharded:  # FSDP: the norm of sharded gradients is a distributed tensor; make it a plain one
            grad_norm = grad_norm.full_tensor()
        self.step += 1
        tokens = sum(x.numel() for x, _ in micro_batches) * self.world_size
        return loss, grad_norm, lr, tokens

    def evaluate(self) -> dict:
        cfg = self.config
        losses = estimate_loss(self.train_model, self.data, batch_size=cfg.eval_batch_size or cfg.batch_size,
                               batches=cfg.eval_batches, seed=cfg.eval_seed, device=self.device,
                               precision=cfg.precision)
        row = {"step": self.step, **losses}
        self.evals.append(row)
        return row

    # ---- the loop -----------------------------------------------------------------------
    def fit(self, resume: bool = False, step: int | None = None) -> TrainResult:
        """Train to `max_steps`; `resume=True` continues from the newest checkpoint in out_dir (or `step`).

        A run that starts from step 0 in an out_dir holding an earlier run's files moves them
        to `out_dir/earlier-runs/<time>/` first (with a warning): nothing is deleted.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        start_wall = time.perf_counter()
        if step is not None and not resume:
            raise ValueError(f"fit(step={step}) names the checkpoint to resume from: pass resume=True as well.")
        if resume:
            self.resume(step)
        self._open_logs()
        history: list[dict] = []
        stopped_early = False
        if cfg.eval_at_start and self.step == 0:
            self._log_eval(self.evaluate())
        bar = tqdm(total=cfg.max_steps, initial=self.step, desc=cfg.desc, disable=not cfg.progress or self.rank != 0,
                   dynamic_ncols=True)
        first_step = self.step + 1
        pending: list[tuple] = []  # steps whose loss is still on the device
        interval_start = time.perf_counter()
        try:
            while self.step < cfg.max_steps:
                pending.append((self.step + 1, *self.run_step()))
                last = self.step == cfg.max_steps
                evaluate = last or (cfg.eval_every and self.step % cfg.eval_every == 0)
                save = self.out_dir is not None and (last or (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0))
                # one host sync per log interval, not per step; the first step alone (one-off costs), and
                # every step when callbacks need its numbers
                if (self.step % cfg.log_every == 0 or evaluate or save or self.callbacks or self.step == first_step):
                    rows = self._read_pending(pending, time.perf_counter() - interval_start)
                    history.extend(rows)
                    pending = []
                    bar.update(len(rows))
                    bar.set_postfix(loss=f"{rows[-1]['loss']:.3f}", tok_s=f"{rows[-1]['tokens_per_s']:,.0f}",
                                    refresh=False)
                    for row in rows:
                        for callback in self.callbacks:
                            callback(self, row)
                    interval_start = time.perf_counter()
                if evaluate:
                    evaluation = self.evaluate()
                    self._log_eval(evaluation)
                    bar.set_postfix(loss=f"{history[-1]['loss']:.3f}", val=f"{evaluation['val']:.3f}", refresh=False)
                    stopped_early = self._should_stop(evaluation["val"])
                if self.out_dir is not None and (save or stopped_early):
                    self.save()
                if stopped_early:
                    break
                if evaluate or save:  # (always after a read) evaluation and checkpoints are not training time
                    interval_start = time.perf_counter()
        finally:
            bar.close()
            self._close_logs()
        # the first step includes one-off costs (compilation, allocator warm-up): leave it out of speed
        timed = history[1:] if len(history) > 1 else history
        return TrainResult(
            history=history, evals=list(self.evals), steps=self.step,
            tokens=sum(r["tokens"] for r in history),
            train_seconds=sum(r["seconds"] for r in timed) * (len(history) / max(1, len(timed))),
            wall_seconds=time.perf_counter() - start_wall, stopped_early=stopped_early,
            config=asdict(cfg),
        )

    def _read_pending(self, pending: list[tuple], seconds: float) -> list[dict]:
        """History rows of the steps in `pending`, read from the device in one transfer, and logged.

        The interval's time is shared equally among its steps (they were not synchronised one by one).
        """
        # the global batch's loss and norm: the mean over the processes
        values = _mean_over_ranks(torch.stack([torch.stack([loss, norm.float()]) for _, loss, norm, _, _ in pending]))
        tokens = sum(t for *_, t in pending)
        rows = []
        for (step, _, _, lr, step_tokens), (loss, norm) in zip(pending, values.tolist(), strict=True):
            row = {"step": step, "loss": loss, "lr": lr, "grad_norm": norm, "tokens": step_tokens,
                   "seconds": seconds / len(pending), "tokens_per_s": tokens / seconds}
            self._log_train(row)
            rows.append(row)
        return rows

    def _should_stop(self, val: float) -> bool:
        if val < self._best - self.config.early_stopping_min_delta:
            self._best, self._bad_evals = val, 0
        else:
            self._bad_evals += 1
        patience = self.config.early_stopping_patience
        return patience is not None and self._bad_evals >= patience

    # ---- checkpoints --------------------------------------------------------------------
    def save(self) -> None:
        if self.rank == 0:
            save_checkpoint(self.out_dir / "checkpoints", model=self.model, step=self.step, optimizer=self.optimizer,
                            scheduler=self.scheduler, scaler=self.scaler, data=self.data,
                            extra={"evals": self.evals, "best": self._best, "bad_evals": self._bad_evals},
                            keep=self.config.keep_checkpoints)
        if self.distributed:
            torch.distributed.barrier()

    def resume(self, step: int | None = None) -> bool:
        """Load the newest checkpoint in out_dir (or the one of `step`), if there is one; True if it did.

        First tidies the folder after a crash (`recover_checkpoints`): leftovers of a save that was
        cut short are removed, and a lost manifest is rebuilt from the checkpoint files that load.
        """
        if self.out_dir is None:
            if step is not None:
                raise ValueError(f"resume(step={step}) needs the run's folder: pass Trainer(..., out_dir=...).")
            return False
        folder = self.out_dir / "checkpoints"
        if self.rank == 0:
            recover_checkpoints(folder)
        if self.distributed:
            torch.distributed.barrier()
        if step is None and latest_step(folder) is None:
            return False
        info = load_checkpoint(folder, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler,
                               scaler=self.scaler, data=self.data, step=step)
        self.step = info["step"]
        self.evals = list(info["extra"].get("evals", []))
        self._best = info["extra"].get("best", math.inf)
        self._bad_evals = info["extra"].get("bad_evals", 0)
        return True

    # ---- logs ---------------------------------------------------------------------------
    def _open_logs(self) -> None:
        self._csv = None
        if self.out_dir is None or self.rank != 0:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / "metrics.csv"
        remove_partial_files(self.out_dir)
        if self.step == 0:
            self._move_earlier_run_aside()
        elif path.exists():  # resumed: drop rows logged after the checkpoint, they will be redone
            self._keep_rows_up_to(path, self.step)
        new = not path.exists()
        self._csv_file = open(path, "a", newline="", encoding="utf-8")
        self._csv = csv.DictWriter(self._csv_file, fieldnames=METRIC_FIELDS)
        if new:
            self._csv.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.out_dir / "tensorboard"))
        except ImportError:  # TensorBoard is optional
            self._writer = None

    def _move_earlier_run_aside(self) -> None:
        """Move the files of a run that was here before into earlier-runs/<time>/, with a warning."""
        checkpoints = self.out_dir / "checkpoints"
        if checkpoints.is_dir():
            remove_partial_files(checkpoints)
            if not any(checkpoints.iterdir()):
                checkpoints.rmdir()
        found = [self.out_dir / name for name in RUN_FILES if (self.out_dir / name).exists()]
        if not found:
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.out_dir / EARLIER_RUNS / stamp
        suffix = 1
        while target.exists():
            target, suffix = self.out_dir / EARLIER_RUNS / f"{stamp}-{suffix}", suffix + 1
        target.mkdir(parents=True)
        for path in found:
            os.replace(path, target / path.name)
        warnings.warn(f"{self.out_dir} held an earlier run ({', '.join(p.name for p in found)}): moved it to {target} "
                      "(resume it with fit(resume=True) instead; delete that folder if you do not need it).",
                      stacklevel=3)

    @staticmethod
    def _keep_rows_up_to(path: Path, step: int) -> None:
        """Rewrite the metrics log (atomically) without the rows logged after `step`."""
        with open(path, newline="", encoding="utf-8") as handle:
            # a row cut short by a kill has missing fields (None): drop it too
            rows = [r for r in csv.DictReader(handle) if None not in r.values() and int(r["step"]) <= step]
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=METRIC_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_bytes(path, text.getvalue().encode("utf-8"))

    def _log_train(self, row: dict) -> None:
        if self._csv is not None:
            self._csv.writerow({"kind": "train", "step": row["step"], "loss": row["loss"], "lr": row["lr"],
                                "grad_norm": row["grad_norm"], "tokens_per_s": row["tokens_per_s"]})
            self._csv_file.flush()  # to the OS, so a killed process loses no logged step (no fsync: cheap)
        if self._writer is not None:
            self._writer.add_scalar("loss/train_step", row["loss"], row["step"])
            self._writer.add_scalar("lr", row["lr"], row["step"])

    def _log_eval(self, row: dict) -> None:
        if self._csv is not None:
            self._csv.writerow({"kind": "eval", "step": row["step"], "loss": row["train"], "val": row["val"]})
            self._csv_file.flush()
        if self._writer is not None:
            self._writer.add_scalar("loss/train", row["train"], row["step"])
            self._writer.add_scalar("loss/val", row["val"], row["step"])

    def _close_logs(self) -> None:
        if self._csv is not None:
            self._csv_file.close()
            self._csv = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def train(model: torch.nn.Module, data, config: TrainConfig, **kwargs) -> TrainResult:
    """`Trainer(model, data, config, **kwargs).fit()` in one call."""
    return Trainer(model, data, config, **kwargs).fit()


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return unwrap_model(model)

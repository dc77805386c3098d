"""A modern small-model recipe, one change at a time, each at equal wall-clock time (chapter 07).

    python benchmarks/recipe_ablation.py                         # screen every change at 90 s, then 600 s
    python benchmarks/recipe_ablation.py --budget-s 60 --final-s 0 --json out.json

Starts from nanoGPT's CPU recipe on Tiny Shakespeare's characters (4 layers, 4 heads, 128 wide, context 64,
batch 12, AdamW at 2e-3, no biases) and adds one change at a time: rotary positions, RMSNorm, SwiGLU,
QK-norm, an untied output layer, biases back, Muon, a schedule, a batch size, a width and a depth. A change is
kept only if it lowers the best validation loss reached in the same training time; the next change is
tried on top of what was kept. Then the kept recipe (and the starting one) train for `--final-s`.

Equal time without a noisy clock: the starting recipe's seconds per step are measured once; each variant's
time per step relative to it is measured step for step alternately on throw-away models (a busy moment
slows both alike); a variant's step count is the budget divided by its time per step, and the
learning-rate schedule spans exactly those steps, so the result no longer depends on the clock.
Evaluation (40 fixed validation batches, 4 times per run) is not training time. A second seed of the starting recipe gives the run-to-run noise: changes
smaller than that are coin flips and are called so in the table.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

# (name, what it changes in the model config, what it changes in the training config)
CHANGES = [
    ("rotary positions (RoPE)", dict(position="rope"), {}),
    ("RMSNorm", dict(norm="rmsnorm"), {}),
    ("SwiGLU MLP", dict(mlp="swiglu"), {}),
    ("QK-norm", dict(qk_norm=True), {}),
    ("untied output layer", dict(tie_weights=False), {}),
    ("biases back (GPT-2)", dict(bias=True), {}),
    ("Muon for the matrices", {}, dict(optimizer="muon")),
    ("peak learning rate x2", {}, "lr*2"),
    ("cosine to 0 (not 10%)", {}, dict(min_lr_ratio=0.0)),
    ("batch 24 (fewer steps)", {}, dict(batch_size=24)),
    ("width 192, 6 heads", dict(n_embd=192, n_head=6), {}),
    ("6 layers", dict(n_layer=6), {}),
]


def starting_point(vocab_size: int):
    """nanoGPT's CPU recipe as (ModernGPTConfig with GPT-2's layout, TrainConfig without a length)."""
    from bigmodel_lib.models.modern_gpt import GPT2_LAYOUT, ModernGPTConfig
    from bigmodel_lib.training.course_gpt import recipe_config, recipe_train_config

    model = ModernGPTConfig(**{**asdict(recipe_config(vocab_size)), **GPT2_LAYOUT})
    return model, recipe_train_config(1, warmup_steps=100, progress=False)


def apply_change(model_cfg, train_cfg, model_change: dict, train_change):
    if train_change == "lr*2":
        train_change = dict(lr=train_cfg.lr * 2)
    return replace(model_cfg, **model_change), replace(train_cfg, **train_change)


def time_ratio(model_cfg, train_cfg, base_model_cfg, base_train_cfg, data, device) -> float:
    """This variant's time per step over the starting recipe's (`step_time_ratio`, on throw-away models)."""
    from bigmodel_lib.models.modern_gpt import ModernGPT
    from bigmodel_lib.training.throughput import step_time_ratio
    from bigmodel_lib.training.trainer import Trainer

    variant, base = (Trainer(ModernGPT(m), copy.deepcopy(data), replace(t, max_steps=100), device=device)
                     for m, t in ((model_cfg, train_cfg), (base_model_cfg, base_train_cfg)))
    return step_time_ratio(variant, base)


def train_for(model_cfg, train_cfg, data, device, steps: int, seed: int, eval_batches: int) -> dict:
    import torch

    from bigmodel_lib.models.modern_gpt import ModernGPT
    from bigmodel_lib.training.trainer import Trainer

    torch.manual_seed(seed)
    model = ModernGPT(model_cfg)
    config = replace(train_cfg, max_steps=steps, warmup_steps=min(train_cfg.warmup_steps, steps // 10),
                     eval_every=max(1, steps // 4), eval_batches=eval_batches)
    data.generator.manual_seed(seed)
    result = Trainer(model, data, config, device=device).fit()
    return {"steps": steps, "train_s": round(result.train_seconds, 1), "best_val": round(result.best_val, 4),
            "parameters": model.num_parameters(), "model": asdict(model_cfg), "train": asdict(config)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--budget-s", type=float, default=90.0, help="training seconds per screened variant")
    parser.add_argument("--final-s", type=float, default=600.0, help="training seconds of the final runs (0: none)")
    parser.add_argument("--eval-batches", type=int, default=40)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    import torch

    from bigmodel_lib import pick_device
    from bigmodel_lib.models.modern_gpt import ModernGPT
    from bigmodel_lib.training.course_gpt import shakespeare_windows
    from bigmodel_lib.training.throughput import step_seconds
    from bigmodel_lib.training.trainer import Trainer

    device = pick_device(args.device)
    tokenizer, data = shakespeare_windows(device)
    print(f"device {device}, torch threads {torch.get_num_threads()}, {args.budget_s:.0f} s of training per variant",
          flush=True)

    base_model, base_train = starting_point(tokenizer.vocab_size)
    probe = Trainer(ModernGPT(base_model), copy.deepcopy(data), replace(base_train, max_steps=50), device=device)
    base_s = statistics.median([step_seconds(probe) for _ in range(50)][10:])  # the first 10: warm-up
    print(f"starting recipe: {1000 * base_s:.1f} ms per step on its own", flush=True)

    def run(name, model_cfg, train_cfg, budget_s, seed=0):
        ratio = time_ratio(model_cfg, train_cfg, base_model, base_train, data, device)
        steps = max(10, int(budget_s / (base_s * ratio)))
        row = {"change": name, "ms_per_step": round(1000 * base_s * ratio, 1), "time_ratio": round(ratio, 3),
               **train_for(model_cfg, train_cfg, data, device, steps, seed, args.eval_batches)}
        print(f"{name:28s} {row['ms_per_step']:6.1f} ms/step {row['steps']:6d} steps  best val {row['best_val']:.4f}",
              flush=True)
        return row

    rows = [run("nanoGPT CPU recipe", base_model, base_train, args.budget_s)]
    noise = abs(run("(same, seed 1)", base_model, base_train, args.budget_s, seed=1)["best_val"] - rows[0]["best_val"])
    rows[0]["seed_noise"] = round(noise, 4)
    model_cfg, train_cfg, best = base_model, base_train, rows[0]["best_val"]
    for name, model_change, train_change in CHANGES:
        candidate = apply_change(model_cfg, train_cfg, model_change, train_change)
        row = run(name, *candidate, args.budget_s)
        row["delta"] = round(row["best_val"] - best, 4)
        row["kept"] = row["best_val"] < best
        row["beyond_noise"] = abs(row["delta"]) > noise
        if row["kept"]:
            (model_cfg, train_cfg), best = candidate, row["best_val"]
        rows.append(row)
    final = []
    if args.final_s > 0:
        final = [run("kept recipe, final", model_cfg, train_cfg, args.final_s),
                 run("nanoGPT CPU recipe, final", base_model, base_train, args.final_s)]
    print()
    print(f"{'change':28s} {'ms/step':>8s} {'steps':>6s} {'best val':>9s} {'Δ':>8s}  kept")
    for row in rows + final:
        delta = f"{row['delta']:+.4f}" if "delta" in row else ""
        kept = ("yes" if row["kept"] else "no") + ("" if row["beyond_noise"] else " (within noise)") if "kept" in row else ""
        print(f"{row['change']:28s} {row['ms_per_step']:8.1f} {row['steps']:6d} {row['best_val']:9.4f} {delta:>8s}  {kept}")
    print(f"run-to-run noise (seed 0 vs 1): {noise:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "torch": torch.__version__,
                                               "threads": torch.get_num_threads(), "screen": rows, "final": final},
                                              indent=2))


if __name__ == "__main__":
    main()

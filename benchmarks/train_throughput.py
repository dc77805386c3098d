"""Training throughput of the chapter-07 GPT: peak matmul FLOP/s, tokens/s and MFU.

    python benchmarks/train_throughput.py                 # CPU (or the GPU `auto` finds)
    python benchmarks/train_throughput.py --device cuda --steps 50 --batch-size 64

Prints a table: eager vs torch.compile, fp32 vs bf16, each with tokens/s and model FLOPs
utilisation (MFU = tokens/s × (6N + 12·L·C·T) / measured peak matmul FLOP/s of that dtype).
With `--overhead` it compares the course `Trainer` with a minimal loop calling the same `train_step`
on the same model: the difference is the trainer's own cost (logging, progress bar). With
`--versus-torch-modules` it times one training step of the course GPT against the same shapes built from
PyTorch's own modules (`nn.TransformerEncoderLayer`, pre-norm, tanh GELU, causal mask), alternately.
No assertions: the figures describe this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def setup(device_name: str | None, block_size: int, n_layer: int, n_head: int, n_embd: int):
    """(device, make_model, make_data): the GPT on Tiny Shakespeare's characters, same weights every call."""
    import copy
    from dataclasses import replace

    import torch

    from bigmodel_lib import pick_device
    from bigmodel_lib.models.gpt import GPT
    from bigmodel_lib.training.course_gpt import recipe_config, shakespeare_windows

    device = pick_device(device_name)
    tokenizer, windows = shakespeare_windows(device, seed=0, block_size=block_size)  # read once, copied per call
    config = replace(recipe_config(tokenizer.vocab_size), block_size=block_size, n_layer=n_layer, n_head=n_head,
                     n_embd=n_embd)  # nanoGPT's CPU recipe, resized

    def make_model():
        torch.manual_seed(0)
        return GPT(config)

    def make_data():
        return copy.deepcopy(windows)  # untouched: the same batches every call

    return device, make_model, make_data


def run(device_name: str | None, steps: int, batch_size: int, block_size: int, n_layer: int, n_head: int,
        n_embd: int, compile_too: bool, precisions: tuple[str, ...] = ("fp32", "bf16"),
        compile_precisions: tuple[str, ...] | None = None):
    """Measure peak FLOP/s per precision and the trainer's speed; `compile_precisions` limits the compiled runs."""
    import pandas as pd

    from bigmodel_lib.training.throughput import measure_training, peak_matmul_flops

    device, make_model, make_data = setup(device_name, block_size, n_layer, n_head, n_embd)

    peaks = {p: peak_matmul_flops(p, device) for p in precisions}
    rows = []
    for compiled in (False, True) if compile_too else (False,):
        for precision in precisions:
            if compiled and compile_precisions is not None and precision not in compile_precisions:
                continue
            row = measure_training(make_model, make_data(), batch_size=batch_size, steps=steps, precision=precision,
                                   compile=compiled, device=device, peak_flops=peaks[precision])
            rows.append({"device": str(device), "peak_TFLOP/s": peaks[precision] / 1e12, **row})
    table = pd.DataFrame(rows)
    table["model_TFLOP/s"] = table.pop("model_flops_per_s") / 1e12
    return table, make_model().num_parameters(), make_model().flops_per_token()


def overhead(device_name: str | None, steps: int, batch_size: int, block_size: int, n_layer: int, n_head: int,
             n_embd: int) -> dict:
    """The trainer's tokens/s against a minimal loop over the same model (see `trainer_overhead`)."""

    from bigmodel_lib.training.throughput import trainer_overhead

    device, make_model, make_data = setup(device_name, block_size, n_layer, n_head, n_embd)

    return trainer_overhead(make_model, make_data(), batch_size=batch_size, steps=steps, device=device)


def torch_modules_gpt(config):
    """The course GPT's shapes from torch.nn only: embeddings, pre-norm encoder layers with a causal mask, LayerNorm,
    a tied output layer."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class TorchModulesGPT(nn.Module):
        def __init__(self):
            super().__init__()
            c = config.n_embd
            self.wte, self.wpe = nn.Embedding(config.vocab_size, c), nn.Embedding(config.block_size, c)
            layer = nn.TransformerEncoderLayer(c, config.n_head, 4 * c, dropout=0.0, batch_first=True, norm_first=True,
                                               activation=lambda x: F.gelu(x, approximate="tanh"), bias=config.bias)
            self.blocks = nn.TransformerEncoder(layer, config.n_layer, enable_nested_tensor=False)
            self.ln_f = nn.LayerNorm(c, bias=config.bias)
            self.lm_head = nn.Linear(c, config.vocab_size, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, idx, targets):
            t = idx.size(1)
            mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device)
            x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
            logits = self.lm_head(self.ln_f(self.blocks(x, mask=mask, is_causal=True)))
            return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten())

    return TorchModulesGPT()


def versus_torch_modules(device_name, steps: int, batch_size: int, block_size: int, n_layer: int, n_head: int,
                         n_embd: int) -> dict:
    """Median ms of one step (forward, backward, AdamW) of the course GPT and of `torch_modules_gpt`, alternately."""
    import statistics
    import time

    import torch

    from bigmodel_lib.device import synchronize

    device, make_model, make_data = setup(device_name, block_size, n_layer, n_head, n_embd)
    course = make_model()
    models = {"course GPT (fused kernels)": course, "torch.nn modules": torch_modules_gpt(course.config)}
    parameters = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
    optimizers = {name: torch.optim.AdamW(m.to(device).parameters(), lr=1e-3) for name, m in models.items()}
    data, times = make_data(), {name: [] for name in models}
    for i in range(steps + 3):
        x, y = data.get_batch("train", batch_size)
        for name, model in models.items():
            start = time.perf_counter()
            model(x, y)[1].backward()
            optimizers[name].step()
            optimizers[name].zero_grad(set_to_none=True)
            synchronize(device)
            if i >= 3:  # warm-up steps left out
                times[name].append(1000 * (time.perf_counter() - start))
    return {name: {"ms_per_step": round(statistics.median(t), 2), "parameters": parameters[name]}
            for name, t in times.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (slow to compile on CPU)")
    parser.add_argument("--precisions", default="fp32,bf16", help="comma-separated: fp32, bf16, fp16 (fp16: CUDA only)")
    parser.add_argument("--compile-precisions", default=None, help="compile only these (default: every precision)")
    parser.add_argument("--json", default=None, help="also write the table and model facts to this JSON file")
    parser.add_argument("--overhead", action="store_true",
                        help="only compare the course Trainer with a minimal loop over the same model")
    parser.add_argument("--versus-torch-modules", action="store_true",
                        help="only compare the course GPT with the same shapes built from torch.nn modules")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.versus_torch_modules:
        rows = versus_torch_modules(args.device, args.steps, args.batch_size, args.block_size, args.n_layer,
                                    args.n_head, args.n_embd)
        for name, row in rows.items():
            print(f"{name:28s} {row['ms_per_step']:7.2f} ms per step  {row['parameters']:,} parameters")
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
        return
    if args.overhead:
        row = overhead(args.device, args.steps, args.batch_size, args.block_size, args.n_layer, args.n_head,
                       args.n_embd)
        print(f"minimal loop {row['minimal_loop_tokens_per_s']:,.0f} tokens/s, course Trainer "
              f"{row['trainer_tokens_per_s']:,.0f} tokens/s: trainer overhead {row['trainer_overhead']:.1%}")
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), **row}, indent=2))
        return
    table, n_params, flops = run(args.device, args.steps, args.batch_size, args.block_size, args.n_layer, args.n_head,
                                 args.n_embd, not args.no_compile, precisions=tuple(args.precisions.split(",")),
                                 compile_precisions=tuple(args.compile_precisions.split(",")) if args.compile_precisions else None)
    import torch

    print(f"GPT {args.n_layer}L/{args.n_head}H/{args.n_embd}d, context {args.block_size}, batch {args.batch_size}: "
          f"{n_params:,} parameters, {flops:,} FLOPs per training token; torch threads {torch.get_num_threads()}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if args.json:
        facts = {"args": vars(args), "parameters": n_params, "flops_per_token": flops,
                 "torch": torch.__version__, "rows": table.to_dict(orient="records")}
        if torch.cuda.is_available():
            facts["gpu"] = torch.cuda.get_device_name()
        Path(args.json).write_text(json.dumps(facts, indent=2, default=str))


if __name__ == "__main__":
    main()

"""Train the character-level GPT on Tiny Shakespeare, in one process or under torchrun (DDP or FSDP).

    python -m bigmodel_lib.training.ddp_train --steps 20 --global-batch 8 --out single.json
    torchrun --standalone --nproc_per_node=2 -m bigmodel_lib.training.ddp_train \\
        --steps 20 --global-batch 8 --out ddp.json
    torchrun --standalone --nproc_per_node=2 -m bigmodel_lib.training.ddp_train \\
        --steps 20 --global-batch 8 --parallel fsdp --out fsdp.json

Both runs see the same examples: every rank draws the same global batch and keeps its slice
(`TokenWindows`), and DDP averages the gradients, so the losses match the single-process run
at the same global batch up to float round-off. Rank 0 writes the losses and the bytes of parameters
and optimizer state it holds (all of them under DDP, its shards under FSDP) to `--out` (JSON).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from .batches import TokenWindows, split_tokens
from .distributed import cleanup_distributed, local_state_bytes, setup_distributed
from .trainer import TrainConfig, Trainer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--global-batch", type=int, default=12, help="sequences per step, all processes together")
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--chars", type=int, default=0, help="use only the first N characters (0 = all)")
    parser.add_argument("--eval-batches", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", choices=("ddp", "fsdp"), default="ddp",
                        help="under torchrun: a full copy per process (ddp) or shards (fsdp)")
    parser.add_argument("--device", default=None, help="auto, cpu, cuda (default: BIGMODEL_DEVICE or auto)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the losses (rank 0)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    from ..data import load_tiny_shakespeare
    from ..models.gpt import GPT, GPTConfig

    args = parse_args(argv)
    info = setup_distributed(args.device)
    if args.global_batch % info.world_size:
        raise SystemExit(f"--global-batch {args.global_batch} is not divisible by {info.world_size} processes.")
    text = load_tiny_shakespeare()
    chars = sorted(set(text))  # the character vocabulary of the whole text (65 symbols)
    index = {c: i for i, c in enumerate(chars)}
    text = text[: args.chars] if args.chars else text
    train, val = split_tokens(torch.tensor([index[c] for c in text]))
    data = TokenWindows(train, val, args.block_size, seed=args.seed, rank=info.rank, world_size=info.world_size,
                        device=info.device)
    torch.manual_seed(args.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    config = GPTConfig(block_size=args.block_size, vocab_size=len(chars), n_layer=args.n_layer, n_head=args.n_head,
                       n_embd=args.n_embd, dropout=0.0)
    train_config = TrainConfig(max_steps=args.steps, batch_size=args.global_batch // info.world_size, lr=args.lr,
                               warmup_steps=args.warmup, eval_every=0, eval_batches=args.eval_batches,
                               parallel=args.parallel, progress=info.is_main, desc=f"{info.world_size} process(es)")
    start = time.perf_counter()
    trainer = Trainer(GPT(config), data, train_config, device=info.device)
    result = trainer.fit()
    summary = {"world_size": info.world_size, "backend": info.backend, "device": str(info.device),
               "parallel": args.parallel if info.world_size > 1 else "none",
               "losses": result.losses, "val": result.final_val, "tokens_per_s": result.tokens_per_s,
               "state_bytes": local_state_bytes(trainer.model, trainer.optimizer),
               "wall_seconds": time.perf_counter() - start, "threads_per_process": torch.get_num_threads()}
    if info.is_main and args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1))
    cleanup_distributed()
    return summary


if __name__ == "__main__":
    main()

"""nanoGPT's CPU recipe trained to the end (2,000 steps): validation loss, tokens/s, wall time.

    python benchmarks/recipe_run.py --device cuda --precisions bf16,fp16

The same trainer, model and data as chapter 07, so the figures compare with the chapter's CPU run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--precisions", default="fp32")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    import torch

    from bigmodel_lib import pick_device
    from bigmodel_lib.models.gpt import GPT
    from bigmodel_lib.training.course_gpt import recipe_config, recipe_train_config, shakespeare_windows
    from bigmodel_lib.training.trainer import Trainer

    device = pick_device(args.device)
    tokenizer, data = shakespeare_windows(device)
    rows = []
    for precision in args.precisions.split(","):
        data.generator.manual_seed(0)  # the same batches for each precision
        torch.manual_seed(0)
        model = GPT(recipe_config(tokenizer.vocab_size))
        config = recipe_train_config(args.steps, warmup_steps=100, eval_every=args.steps, eval_batches=20,
                                     precision=precision, progress=False, desc=precision)
        result = Trainer(model, data, config, device=device).fit()
        rows.append({"device": str(device), "precision": precision, "steps": result.steps,
                     "val_loss": round(result.final_val, 4), "tokens_per_s": round(result.tokens_per_s),
                     # per 10-step log interval (evaluations left out): a burst of other work cannot move it
                     "median_tokens_per_s": round(statistics.median(r["tokens_per_s"] for r in result.history[1:])),
                     "wall_s": round(result.wall_seconds, 1)})
        print(rows[-1], flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

"""Full fine-tuning of MiniLM on SMS spam: validation and test accuracy per step budget and seed.

    python benchmarks/sms_finetune.py --steps 120,454 --seeds 0,1

Chapter 08's budget (`classify.course_plan("full")`) was chosen on the validation column; the
test column shows how far the test score moves between seeds (one error is 0.1 point of 1,035).
The first row is the TF-IDF + logistic-regression baseline, the bar to beat.
Each run is `classify.run_strategy("full", ...)` with the chapter's learning rate and token length,
so a row with seed 0 and the chapter's steps reproduces the chapter's figure on the same device.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="120,454", help="comma-separated step budgets (batches of 16)")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)

    from bigmodel_lib import pick_device
    from bigmodel_lib.evaluation import metrics as M
    from bigmodel_lib.finetuning import classify as C

    device = pick_device(args.device)
    plan = C.course_plan("full")
    splits = C.sms_splits(0)
    encoder, tokenizer = C.load_encoder("hf")
    tokens = {k: tokenizer(getattr(splits, k).text, plan.max_len["sms_spam"]) for k in ("train", "val", "test")}
    labels = {k: getattr(splits, k).label.to_numpy() for k in ("train", "val", "test")}

    def row(model: str, val_pred, test_pred, seed=None, steps=None, seconds=None) -> dict:
        return {"model": model, "seed": seed, "steps": steps,
                "epochs": None if steps is None else round(steps * 16 / len(labels["train"]), 2),
                "val accuracy": M.accuracy(labels["val"], val_pred), "test accuracy": M.accuracy(labels["test"], test_pred),
                "test errors": int((test_pred != labels["test"]).sum()),
                "train s": None if seconds is None else round(seconds, 1)}

    baseline = C.tfidf_baseline(splits.train.text, splits.train.label)
    rows = [row("tfidf+logreg", baseline.predict(splits.val.text), baseline.predict(splits.test.text))]
    for seed in [int(s) for s in args.seeds.split(",")]:
        for steps in [int(s) for s in args.steps.split(",")]:
            r = C.run_strategy("full", encoder, tokens, labels, steps=steps, lr=plan.lr["full"], device=device,
                               seed=seed, desc=f"seed {seed}, {steps} steps")
            rows.append(row("MiniLM full", r.val_logits.argmax(1), r.test_logits.argmax(1), seed, steps, r.seconds))
            print(table(rows[-1:]), flush=True)
    print(f"\nSMS spam, full fine-tuning on {device} ({len(labels['val'])} validation, {len(labels['test'])} test):")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"device": str(device), "rows": rows}, indent=2), encoding="utf-8")


def table(rows: list[dict]) -> str:
    """The rows as printed: whole numbers stay whole, the baseline's empty cells stay empty."""
    import pandas as pd

    frame = pd.DataFrame(rows).round(4)
    for column in ("seed", "steps"):
        frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else int(v))
    return frame.to_string(index=False, na_rep="")


if __name__ == "__main__":
    main()

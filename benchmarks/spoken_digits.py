"""Spoken digits from voices never heard (chapter 10): one change at a time, each judged on validation speakers.

    python benchmarks/spoken_digits.py --json benchmarks/results/spoken_digits_cpu.json
    python benchmarks/spoken_digits.py --val-speakers george,nicolas --seeds 0     # a quicker, noisier run

Chapter 10 trains `AudioCNN` on four speakers of the Free Spoken Digit Dataset and tests on two others
(jackson, theo). Here the test speakers stay out of every choice: each change is scored by leave-one-
speaker-out validation inside the four training speakers (train on three, validate on the fourth, mean over
the folds), added on top of what was kept so far, and kept only if the mean validation accuracy rises.
Only then do the test speakers come in, once for chapter 10's configuration and once for the kept one,
each trained on all four training speakers with several seeds (mean ± std).

Every run uses the chapter's pieces: `audio.fsdd_log_mels` (40 mels, 1 s), `audio.standardize` (per mel band,
training statistics), `AudioCNN` and `train_classifier` (AdamW 3e-3, batch 64) — the course's one loop —
with the changes `audio.utterance_cmvn` (or `audio.speaker_cmvn`), `audio.cepstral_smooth`,
`audio.warp_spectrograms`, `audio.shift_spectrograms`, `audio.mask_spectrograms` and `train_classifier`'s cosine
schedule. Each config key's default in BASELINE is chapter 10's old behaviour, so earlier rows stay reproducible.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

TEST_SPEAKERS = ("jackson", "theo")  # chapter 10's
BASELINE = dict(cmvn=False, warp=0.0, masks=False, epochs=6,  # chapter 10 as it is (full profile)
                smooth=0, cepstra=0, mask_count=1, shift=0, noise=0.0, channels=(16, 32, 64), dropout=0.2,
                cosine=False, weight_decay=1e-4, cmvn_variance=True, speaker_cmvn=False)
CHANGES = [  # (name, what it changes), tried in this order, each on top of what was kept
    ("per-recording CMVN (utterance_cmvn)", dict(cmvn=True)),
    ("warp: speed and mel scale ±15%", dict(warp=0.15)),
    ("12 epochs instead of 6", dict(epochs=12)),
    ("SpecAugment masks (6 bands, 12 frames)", dict(masks=True)),
    ("CMVN per speaker (speaker_cmvn)", dict(speaker_cmvn=True)),
    ("cosine learning rate, 20 epochs", dict(cosine=True, epochs=20)),
    ("random onset shift (up to 10 frames)", dict(shift=10)),
    ("two runs of masks of each kind", dict(mask_count=2)),
    ("cepstral smoothing (first 20 of 40)", dict(smooth=20)),
    ("dropout 0.4", dict(dropout=0.4)),
]


def augmentation(config: dict):
    """The batch transform `fit` applies for a config, or None."""
    from bigmodel_lib.data import audio

    steps = []
    if config["warp"]:
        steps.append(functools.partial(audio.warp_spectrograms, freq=config["warp"], time=config["warp"]))
    if config["shift"]:
        steps.append(functools.partial(audio.shift_spectrograms, max_frames=config["shift"]))
    if config["masks"]:
        steps.append(functools.partial(audio.mask_spectrograms, count=config["mask_count"]))
    if config["noise"]:
        steps.append(functools.partial(audio.noise_spectrograms, std=config["noise"]))
    if not steps:
        return None

    def augment(batch, generator):
        for step in steps:
            batch = step(batch, generator)
        return batch

    return augment


def features(feats, config: dict, speakers):
    """The model's input for a config, from the log-mels (N, n_mels, frames), before standardisation."""
    from bigmodel_lib.data import audio

    x = feats
    if config["speaker_cmvn"]:
        x = audio.speaker_cmvn(x, speakers)
    elif config["cmvn"]:
        x = audio.utterance_cmvn(x, variance=config["cmvn_variance"])
    if config["smooth"]:
        x = audio.cepstral_smooth(x, config["smooth"])
    if config["cepstra"]:
        x = audio.cepstra(x, config["cepstra"])
    return x


def train_and_score(feats, table, config: dict, train_speakers, eval_speakers, seed: int) -> dict:
    """Train chapter 10's CNN on `train_speakers` with `config`; accuracy on `eval_speakers`, overall and each."""
    import torch

    from bigmodel_lib.data import audio
    from bigmodel_lib.models.audio_cnn import AudioCNN, AudioCNNConfig, predict, train_classifier

    train = table.speaker.isin(train_speakers).to_numpy()
    held = table.speaker.isin(eval_speakers).to_numpy()
    x = features(feats, config, table.speaker.to_numpy())
    x_train, x_held = audio.standardize(x[train], x[held])
    y = torch.tensor(table.digit.to_numpy())
    torch.manual_seed(seed)
    model = AudioCNN(AudioCNNConfig(n_classes=10, n_mels=x.shape[1], channels=tuple(config["channels"]),
                                    dropout=config["dropout"]))
    train_classifier(model, torch.from_numpy(x_train), y[train], epochs=config["epochs"], batch_size=64, lr=3e-3,
                     seed=seed, progress=False, augment=augmentation(config), cosine=config["cosine"],
                     weight_decay=config["weight_decay"])
    right = (predict(model, torch.from_numpy(x_held)) == y[held]).numpy()
    speakers = table.speaker[held].to_numpy()
    return {"accuracy": float(right.mean()),
            "per_speaker": {s: float(right[speakers == s].mean()) for s in sorted(set(speakers))}}


def validate(feats, table, config: dict, train_speakers, val_speakers, seed: int) -> dict:
    """Leave-one-speaker-out: for each validation speaker, train on the other training speakers."""
    started = time.perf_counter()
    folds = {v: train_and_score(feats, table, config, [s for s in train_speakers if s != v], [v], seed)["accuracy"]
             for v in val_speakers}
    return {"val_accuracy": statistics.mean(folds.values()), "folds": folds, "seconds": time.perf_counter() - started}


def test(feats, table, config: dict, train_speakers, seeds) -> dict:
    started = time.perf_counter()
    runs = [train_and_score(feats, table, config, train_speakers, TEST_SPEAKERS, seed) for seed in seeds]
    seconds = (time.perf_counter() - started) / len(seeds)
    accs = [r["accuracy"] for r in runs]
    return {"seconds_per_training": seconds, "test_accuracy_mean": statistics.mean(accs), "test_accuracy_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "test_accuracy_per_seed": accs, "per_speaker_per_seed": [r["per_speaker"] for r in runs]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--val-speakers", default=None, help="comma-separated; default: each training speaker in turn")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the final test runs")
    parser.add_argument("--val-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", default=None, help="also write the figures to this file (and the table beside it as .txt)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    import torch

    from bigmodel_lib.data import audio, fsdd_recordings
    from bigmodel_lib.io import atomic_write_text

    if args.threads:
        torch.set_num_threads(args.threads)
    table = fsdd_recordings()
    feats = audio.fsdd_log_mels(table, seconds=1.0, n_mels=40, progress=False)  # (3000, 40, 97), as chapter 10
    train_speakers = sorted(set(table.speaker) - set(TEST_SPEAKERS))
    val_speakers = args.val_speakers.split(",") if args.val_speakers else train_speakers
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = [f"validation: leave one of {val_speakers} out of {train_speakers}, seed {args.val_seed}; "
             f"test: {list(TEST_SPEAKERS)}, trained on all of {train_speakers}, seeds {seeds}", ""]

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    for line in lines:
        print(line)
    say(f"{'change (each on top of the kept ones)':42s} {'val acc':>8s}  kept  {'per validation speaker':40s} {'s':>5s}")
    config, rows = dict(BASELINE), []
    best = validate(feats, table, config, train_speakers, val_speakers, args.val_seed)
    rows.append({"change": "chapter 10 as it is", "config": dict(config), "kept": True, **best})
    for name, change in [(None, None), *CHANGES]:
        if name is not None:
            trial = {**config, **change}
            scores = validate(feats, table, trial, train_speakers, val_speakers, args.val_seed)
            kept = scores["val_accuracy"] > best["val_accuracy"]
            rows.append({"change": name, "config": trial, "kept": kept, **scores})
            if kept:
                config, best = trial, scores
        row = rows[-1]
        folds = " ".join(f"{s} {a:.3f}" for s, a in row["folds"].items())
        say(f"{row['change']:42s} {row['val_accuracy']:8.3f}  {'yes' if row['kept'] else 'no':4s}  {folds:40s} {row['seconds']:5.0f}")

    say("")
    finals = {"chapter 10 as it is": dict(BASELINE), "kept changes": config}
    results = {}
    for name, final_config in finals.items():
        results[name] = {"config": final_config, **test(feats, table, final_config, train_speakers, seeds)}
        r = results[name]
        speakers = {s: statistics.mean(p[s] for p in r["per_speaker_per_seed"]) for s in TEST_SPEAKERS}
        say(f"test speakers, {name:20s} {r['test_accuracy_mean']:.3f} ± {r['test_accuracy_std']:.3f} over {len(seeds)} seeds "
            f"(each {', '.join(f'{a:.3f}' for a in r['test_accuracy_per_seed'])}; "
            f"{', '.join(f'{s} {a:.3f}' for s, a in speakers.items())}; {r['seconds_per_training']:.0f} s per training)  "
            f"config {final_config}")
    wall = time.perf_counter() - started
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    say(f"\ncommand: {command}\nwall time {wall:.0f} s; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}")
    if args.json:
        out = Path(args.json)
        payload = {"command": command, "wall_seconds": wall, "torch_threads": torch.get_num_threads(),
                   "torch": torch.__version__, "validation": rows, "test": results}
        atomic_write_text(out, json.dumps(payload, indent=2) + "\n")
        atomic_write_text(out.with_suffix(".txt"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

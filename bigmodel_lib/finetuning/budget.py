"""The course's fine-tuning budget: what chapter 08 trains and chapter 09 retrains."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FinetunePlan:
    """What chapter 08 trains and chapter 09 retrains when 08's predictions are missing."""

    steps: dict[str, int]              # optimizer steps (batches of 16) per task, the same for every strategy
    strategies: dict[str, list[str]]   # which strategies run on each task
    max_len: dict[str, int]            # tokens kept per text
    lr: dict[str, float]               # learning rate per strategy (the probe has none)
    limit: int | None                  # smoke: train on 2×limit texts, validate and test on `limit`


def course_plan(profile: str) -> FinetunePlan:
    """The one budget both chapters use, so 09 can tell whether 08's saved logits fit its splits.

    SMS spam trains three epochs of its 3,619 training messages (681 steps): two epochs beat half an epoch
    on validation (`benchmarks/sms_finetune.py`), and three beat two on mean validation accuracy over
    3 seeds (`benchmarks/finetune_seeds.py --steps`, results in benchmarks/results); sentiment, 100 steps.
    """
    from ..profiles import by_profile

    return FinetunePlan(
        steps={"sms_spam": by_profile(profile, smoke=2, full=681), "sentiment": by_profile(profile, smoke=2, full=100)},
        # budget: SMS (more and longer texts) runs the three strategies that matter most; sentiment all five
        strategies={"sms_spam": ["probe", "full", "lora"], "sentiment": ["probe", "last_n", "full", "lora", "peft"]},
        # full: 95% of SMS messages fit in 55 tokens, 99% of sentences in 50; smoke: short and quick
        max_len=by_profile(profile, smoke={"sms_spam": 16, "sentiment": 16}, full={"sms_spam": 64, "sentiment": 48}),
        lr={"probe": 0.0, "last_n": 2e-4, "full": 1e-4, "lora": 1e-3, "peft": 1e-3},
        limit=by_profile(profile, smoke=24, full=None),
    )

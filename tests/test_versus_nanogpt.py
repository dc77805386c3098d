"""benchmarks/versus_nanogpt.py reads nanoGPT's and the course's speed from their output."""

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("versus_nanogpt", Path(__file__).parents[1] / "benchmarks" / "versus_nanogpt.py")
versus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(versus)

NANOGPT_LOG = """\
step 0: train loss 4.2874, val loss 4.2823
iter 0: loss 4.2649, time 900.00ms, mfu -100.00%
iter 1: loss 3.9, time 40.00ms, mfu -100.00%
iter 2: loss 3.8, time 40.00ms, mfu -100.00%
iter 3: loss 3.7, time 1000.00ms, mfu 0.02%
step 250: train loss 2.4293, val loss 2.4447
iter 250: loss 2.4904, time 481.07ms, mfu 0.03%
"""


def test_nanogpt_speed_leaves_out_evaluation_iterations_and_reads_the_last_val_loss():
    speed = versus.nanogpt_speed(NANOGPT_LOG)
    assert speed["tokens_per_s"] == pytest.approx(768 / 0.36)  # iterations 1, 2, 3: mean 360 ms
    assert speed["median_tokens_per_s"] == pytest.approx(768 / 0.04)  # the 1 s outlier does not move the median
    assert speed["val_loss"] == 2.4447


def test_course_speed_reads_recipe_runs_last_line():
    output = "noise\n{'device': 'cpu', 'tokens_per_s': 20000, 'median_tokens_per_s': 21000, 'val_loss': 1.81}\n"
    assert versus.course_speed(output) == {"tokens_per_s": 20000, "median_tokens_per_s": 21000, "val_loss": 1.81}

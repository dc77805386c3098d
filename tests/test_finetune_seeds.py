"""benchmarks/finetune_seeds.py: its overrides of chapter 08's budget."""

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("finetune_seeds", Path(__file__).parents[1] / "benchmarks" / "finetune_seeds.py")
finetune_seeds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(finetune_seeds)


def test_overrides_parse_name_value_pairs_with_the_given_type():
    assert finetune_seeds._overrides("full=2e-4,lora=5e-4", float) == {"full": 2e-4, "lora": 5e-4}
    assert finetune_seeds._overrides("sms_spam=681", int) == {"sms_spam": 681}
    assert finetune_seeds._overrides(None, int) == {}


def test_a_pair_without_a_value_is_a_one_line_error():
    with pytest.raises(SystemExit, match="name=value pairs"):
        finetune_seeds._overrides("sms_spam", int)

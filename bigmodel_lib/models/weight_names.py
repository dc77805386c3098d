"""Loading a published checkpoint into our models: rename each tensor by rules, then load strictly.

Each model keeps its own table of (published name pattern, our name) rules, applied with
`re.fullmatch`; these two helpers are the shared mechanics.
"""

from __future__ import annotations

import re

import torch


def rename_by_rules(name: str, rules: list[tuple[str, str]]) -> str:
    """Our name for a published tensor name: the first rule whose pattern matches it whole."""
    for pattern, replacement in rules:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(f"No rule maps the checkpoint tensor {name!r}; add one to HF_NAME_RULES.")


def load_exactly(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Load `state` (already in our names) into `model`; every tensor must find a home."""
    expected = set(model.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        raise ValueError(f"Checkpoint does not fit: missing {sorted(missing)}, unexpected {sorted(unexpected)}.")
    model.load_state_dict(state, strict=True)
    return model

"""Run profiles: `smoke` (every code path, well under a minute) and `full` (the learner's run).

A chapter's `parameters` cell reads its defaults from the environment, so papermill
(`-p PROFILE smoke`), nbval (which cannot inject parameters) and a learner all get the
same behaviour:

    PROFILE = bml.default_profile()     # "full" unless BIGMODEL_PROFILE says otherwise
"""

from __future__ import annotations

import os
from typing import TypeVar

PROFILES = ("smoke", "full")
DEFAULT_PROFILE = "full"

T = TypeVar("T")


def check_profile(profile: str) -> str:
    """Return `profile` if it is known, else raise an error that lists the known ones."""
    if profile not in PROFILES:
        raise ValueError(
            f"Unknown profile {profile!r}. Use one of {', '.join(PROFILES)} "
            "(set BIGMODEL_PROFILE or pass -p PROFILE smoke to papermill)."
        )
    return profile


def default_profile() -> str:
    """The profile named by BIGMODEL_PROFILE, or 'full'."""
    return check_profile(os.environ.get("BIGMODEL_PROFILE", DEFAULT_PROFILE).strip() or DEFAULT_PROFILE)


def by_profile(profile: str, *, smoke: T, full: T) -> T:
    """Pick the value for `profile`: `steps = by_profile(PROFILE, smoke=20, full=2000)`."""
    return smoke if check_profile(profile) == "smoke" else full

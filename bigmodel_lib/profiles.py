"""Run profiles: `smoke` (every code path, well under a minute) and `full` (the learner's run).

A chapter's `parameters` cell holds literals only (papermill parses it); `None` there means
"from the environment". The cell after it resolves them, so a value set in the cell or injected by
papermill (`-p PROFILE smoke`) wins, and otherwise BIGMODEL_PROFILE decides (nbval cannot inject
parameters, so its smoke runs set the variable):

    PROFILE = None                           # parameters cell
    PROFILE = bml.default_profile(PROFILE)   # next cell: "smoke" or "full"
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


def default_profile(chosen: str | None = None) -> str:
    """`chosen` when given, else the profile named by BIGMODEL_PROFILE, else 'full'."""
    if chosen is not None:
        return check_profile(chosen)
    return check_profile(os.environ.get("BIGMODEL_PROFILE", DEFAULT_PROFILE).strip() or DEFAULT_PROFILE)


def by_profile(profile: str, *, smoke: T, full: T) -> T:
    """Pick the value for `profile`: `steps = by_profile(PROFILE, smoke=20, full=2000)`."""
    return smoke if check_profile(profile) == "smoke" else full

"""Automatic checks for the end-of-chapter exercises.

Each chapter's checks live in `exercises/chNN.py`. A check calls the learner's function on
inputs it chooses, compares with a reference computed here, and either prints a short
"passed" line or raises `ExerciseFailed` with a hint — never the answer.
"""

from __future__ import annotations


class ExerciseFailed(AssertionError):
    """The learner's answer is not right yet; the message is a hint."""


def expect(condition: bool, hint: str) -> None:
    if not condition:
        raise ExerciseFailed(f"Not yet. Hint: {hint}")


def passed(exercise: str) -> str:
    message = f"✓ {exercise}: passed"
    print(message)
    return message

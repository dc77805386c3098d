"""Run a code listing as a book prints it, and show what it raises instead of crashing.

    outcome = run_listing(PRINTED_LISTING)            # ListingOutcome(error_type='ValueError', line=6, ...)
    fixed = edit_listing(PRINTED_LISTING, {"Input(shape=(None,))": "Input(shape=(64,))"})
    print(listing_diff(PRINTED_LISTING, fixed))

The error is caught and kept (type, message, the line of the listing that raised it), so a
notebook can show the real message, explain it, fix one thing and run again.

A printed listing may hold shell lines (`pip install tensorflow`): they are shown as printed but
not executed as Python. The runner comments them out in place, so every other line keeps the
number it has in print and an error is reported at the article's own line number.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import traceback
from dataclasses import dataclass, field

LISTING_FILENAME = "<listing>"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SHELL_LINE = re.compile(r"^\s*[!%]?\s*(pip3?|conda|python3?\s+-m\s+pip)\s")  # a command for the terminal, not Python


@dataclass
class ListingOutcome:
    error_type: str | None  # "ValueError", or None when the listing ran to the end
    message: str
    line: int | None  # 1-based line of the listing that raised
    code: str  # that line's text
    namespace: dict = field(repr=False, default_factory=dict)
    stdout: str = field(repr=False, default="")  # what it printed, terminal-style (see `terminal_text`)
    shell_lines: tuple[int, ...] = ()  # 1-based lines shown as printed but not run (`pip install ...`)

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def summary(self) -> str:
        if self.ok:
            return "ran to the end without an error"
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return f"line {self.line}: {self.code.strip()}\n  → {self.error_type}: {first}"


def run_listing(source: str, namespace: dict | None = None, capture: bool = True) -> ListingOutcome:
    """Execute `source` in `namespace` (a fresh dict by default); catch and describe the first error.

    With `capture`, what the listing prints (Keras progress bars, say) is kept in `.stdout`
    instead of flooding the notebook.
    """
    namespace = {"__name__": "__listing__"} if namespace is None else namespace
    lines = source.splitlines()
    python, shell = python_lines(source)
    buffer = io.StringIO()
    redirect = contextlib.redirect_stdout(buffer) if capture else contextlib.nullcontext()
    try:
        with redirect:
            exec(compile(python, LISTING_FILENAME, "exec"), namespace)
    except Exception as error:  # noqa: BLE001 - the point is to show whatever the listing raises
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == LISTING_FILENAME]
        line = frames[-1].lineno if frames else None
        code = lines[line - 1] if line else ""
        return ListingOutcome(
            type(error).__name__, ANSI.sub("", str(error)), line, code, namespace, terminal_text(buffer.getvalue()), shell
        )
    return ListingOutcome(None, "", None, "", namespace, terminal_text(buffer.getvalue()), shell)


def python_lines(source: str) -> tuple[str, tuple[int, ...]]:
    """`source` with its shell lines commented out in place (same line count), and their 1-based numbers."""
    lines = source.splitlines()
    shell = tuple(number for number, line in enumerate(lines, 1) if SHELL_LINE.match(line))
    python = [f"# {line}" if number in shell else line for number, line in enumerate(lines, 1)]
    return "\n".join(python) + "\n", shell


def terminal_text(text: str) -> str:
    """What a terminal would finally show: colour codes dropped, each line after its last carriage return."""
    lines = (line.rsplit("\r", 1)[-1].rstrip() for line in ANSI.sub("", text).split("\n"))
    return "\n".join(line for line in lines if line)


def epoch_summaries(stdout: str) -> list[str]:
    """From Keras `fit` output: one line per epoch, "Epoch k/N" joined with its final progress line."""
    summaries, current, last = [], None, ""
    for line in stdout.splitlines():
        if line.startswith("Epoch "):
            if current:
                summaries.append(f"{current}: {last.strip()}")
            current, last = line.strip(), ""
        elif current:
            last = line
    if current:
        summaries.append(f"{current}: {last.strip()}")
    return summaries


def numbered(source: str, mark: int | None = None) -> str:
    """The listing with line numbers, an arrow on line `mark` (the one that raised)."""
    lines = source.splitlines()
    width = len(str(len(lines)))
    return "\n".join(f"{'→' if i == mark else ' '} {i:>{width}} | {line}".rstrip() for i, line in enumerate(lines, 1))


def edit_listing(source: str, replacements: dict[str, str]) -> str:
    """Apply exact text replacements; each `old` must occur exactly once (so a fix is unambiguous)."""
    for old, new in replacements.items():
        count = source.count(old)
        if count != 1:
            raise ValueError(f"{old!r} occurs {count} times in the listing; a fix must name exactly one place.")
        source = source.replace(old, new)
    return source


def listing_diff(before: str, after: str) -> str:
    """A unified diff of two versions of a listing: the fix, line by line."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=0)
    return "\n".join(diff)

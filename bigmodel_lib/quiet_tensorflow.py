"""Keep TensorFlow's start-up lines out of the lessons and the command line.

Importing TensorFlow 2.21 prints, from C++ and before its logging honours TF_CPP_MIN_LOG_LEVEL,
"oneDNN custom operations are on …" and absl's "All log messages before absl::InitializeLog() …"
(twice: two of its libraries log it). Turning oneDNN off would change the numbers, so instead the
import of `tensorflow` runs with file descriptor 2 pointed at the null device; everything before
and after it reaches stderr as usual, and an error during the import is still raised.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys

STDERR_FD = 2


@contextlib.contextmanager
def stderr_fd_silenced():
    """While inside, what anything writes to file descriptor 2 (C++ included) is dropped."""
    try:
        saved = os.dup(STDERR_FD)
    except OSError:  # no stderr to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, STDERR_FD)
        yield
    finally:
        os.dup2(saved, STDERR_FD)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, with its module's execution silenced; everything else delegated."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with stderr_fd_silenced():
            self._loader.exec_module(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once, the normal way, and wraps its loader."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Quiet the next import of TensorFlow (nothing to do once it is imported)."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlowFinder())


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
install()

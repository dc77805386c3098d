"""Measuring the memory of a training step: the process's peak, the activations autograd saves,
and what weights, gradients and AdamW's moments take.

    with PeakMemory(device) as mem:        # CUDA allocator peak, or sampled RSS growth on CPU
        ...
    acts = SavedActivations()
    with acts.hooks():
        loss = model(x).sum()               # saved tensors are counted as autograd stores them
    acts.end_step()
"""

from __future__ import annotations

import threading
import time

import torch


def adamw_state_mib(total: int, trainable: int) -> float:
    """float32 weights of all `total` parameters + gradients and AdamW's two moments of the `trainable` ones, in MiB."""
    return 4 * (total + 3 * trainable) / 2**20


class PeakMemory:
    """Peak memory while the block runs, in MiB above where it started.

    CUDA: the allocator's peak; otherwise the process's resident set size, sampled every 10 ms
    in a background thread (so it includes Python and the allocator's slack: an upper bound).
    """

    def __init__(self, device: torch.device | str = "cpu", interval: float = 0.01):
        self.device = torch.device(device)
        self.interval = interval
        self.peak_mib = 0.0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            return self
        import psutil

        self._proc = psutil.Process()
        self._start = self._peak = self._proc.memory_info().rss
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.is_set():
                self._peak = max(self._peak, self._proc.memory_info().rss)
                time.sleep(self.interval)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, self._proc.memory_info().rss)
        self.peak_mib = (peak - self._start) / 2**20


class SavedActivations:
    """Bytes of the tensors autograd saves for the backward pass (the activation memory).

    Uses `torch.autograd.graph.saved_tensors_hooks`; shared storages count once per step.
    Exact and device-independent, unlike RSS: a frozen layer saves nothing it does not need.
    """

    def __init__(self):
        self.step_bytes = 0
        self.peak_bytes = 0
        self._seen: set[int] = set()

    def pack(self, t: torch.Tensor):
        try:
            key = t.untyped_storage().data_ptr()
            size = t.untyped_storage().nbytes()
        except (RuntimeError, NotImplementedError):
            key, size = id(t), t.numel() * t.element_size()
        if key not in self._seen:
            self._seen.add(key)
            self.step_bytes += size
        return t

    def end_step(self) -> None:
        self.peak_bytes = max(self.peak_bytes, self.step_bytes)
        self.step_bytes = 0
        self._seen.clear()

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)

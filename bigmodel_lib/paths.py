"""Where things live: the repository, the data cache, the build folder."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path


def repo_root() -> Path:
    """The course checkout (the folder holding `bigmodel_lib/`), or the working directory
    when the package is installed without a checkout (a hosted notebook)."""
    here = Path(__file__).resolve().parent.parent
    if (here / "chapters").is_dir():
        return here
    return Path.cwd()


def cache_dir() -> Path:
    """The project's data cache: BIGMODEL_CACHE, else `data/` in the checkout."""
    configured = os.environ.get("BIGMODEL_CACHE")
    return Path(configured).expanduser() if configured else repo_root() / "data"


def mirror_dir() -> Path | None:
    """The read-only mirror named by BIGMODEL_DATA_MIRROR, if any."""
    configured = os.environ.get("BIGMODEL_DATA_MIRROR")
    return Path(configured).expanduser().resolve() if configured else None


def describe_location(path: Path | str) -> str:
    """A path as a learner should see it, without this machine's folders:
    `data/…` (cache), `$BIGMODEL_DATA_MIRROR/…`, `site-packages/…`."""
    text = str(path)
    mirror = mirror_dir()
    for root, label in ((cache_dir(), "data"), (mirror, "$BIGMODEL_DATA_MIRROR")):
        if root is not None and text.startswith(str(root)):
            return label + text[len(str(root)) :]
    stdlib = sysconfig.get_paths()["stdlib"]
    if text.startswith(stdlib):
        return "stdlib" + text[len(stdlib) :]
    if "site-packages" in text:
        return "site-packages" + text.split("site-packages", 1)[1]
    if text.startswith(str(repo_root())):
        return text[len(str(repo_root())) + 1 :]
    return text

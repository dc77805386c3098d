import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
if "BIGMODEL_DATA_MIRROR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["BIGMODEL_DATA_MIRROR"] = str(SHARED_DATA)


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty project cache and no mirror, so a test sees only what it puts there."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("BIGMODEL_CACHE", str(cache))
    monkeypatch.delenv("BIGMODEL_DATA_MIRROR", raising=False)
    return cache


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    directory = tmp_path / "results"
    monkeypatch.setenv("BIGMODEL_RESULTS_DIR", str(directory))
    return directory

"""bigmodel_lib: the one library behind the bigmodel-course notebooks.

The few names every notebook uses live here; the rest is organised by what things are:
`data`, `tokenizers`, `models`, `keras_models`, `training`, `finetuning`, `evaluation`,
`sizing`, `plotting`, `exercises`, `course`.
"""

from . import data, paths
from .device import default_device_name, device_report, pick_device, seed_everything
from .profiles import PROFILES, by_profile, default_profile
from .results import load_results, record, recorded, start_chapter

__version__ = "0.1.0"

__all__ = [
    "data",
    "paths",
    "PROFILES",
    "by_profile",
    "default_device_name",
    "default_profile",
    "device_report",
    "load_results",
    "pick_device",
    "record",
    "recorded",
    "seed_everything",
    "start_chapter",
]

"""bigmodel_lib: the one library behind the bigmodel-course notebooks.

The few names every notebook uses live here; the rest is organised by what things are:
`data`, `tokenizers`, `models`, `keras_models`, `training`, `finetuning`, `evaluation`,
`sizing`, `plotting`, `exercises`, `course`.
"""

# First, before anything imports TensorFlow: importing this module quiets TensorFlow's start-up lines.
from . import quiet_tensorflow  # noqa: I001, F401
from . import data, paths
from .device import default_device_name, device_report, pick_device, seed_everything
from .numerics import check_close, check_matches, max_abs_diff, roundoff_bound
from .profiles import PROFILES, by_profile, default_profile
from .results import load_results, record, recorded, start_chapter

__version__ = "0.1.0"

__all__ = [
    "data",
    "paths",
    "PROFILES",
    "by_profile",
    "check_close",
    "check_matches",
    "default_device_name",
    "default_profile",
    "device_report",
    "load_results",
    "max_abs_diff",
    "pick_device",
    "record",
    "roundoff_bound",
    "recorded",
    "seed_everything",
    "start_chapter",
]

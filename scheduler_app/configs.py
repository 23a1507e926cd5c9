"""Deprecated name of :mod:`scheduler_app.task_configs` (a task's configuration).

Renamed so that it no longer reads like :mod:`scheduler_app.conf` (the
``SCHEDULER`` settings). ``from scheduler_app import configs`` keeps working,
with a DeprecationWarning; nothing in scheduler_app imports this module.
"""

import warnings

from scheduler_app.task_configs import (
    SECRET_MASK,
    clean_config,
    mask_secrets,
    masked_config,
    merge_secrets,
    store_config,
    to_json,
)

__all__ = [
    "SECRET_MASK",
    "clean_config",
    "mask_secrets",
    "masked_config",
    "merge_secrets",
    "store_config",
    "to_json",
]

warnings.warn(
    "scheduler_app.configs is now scheduler_app.task_configs.",
    DeprecationWarning,
    stacklevel=2,
)

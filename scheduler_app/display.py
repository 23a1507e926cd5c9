"""Deprecated name of :mod:`scheduler_app.presentation.display` (times and badges as people read them).

The edges' shared renderers moved into the ``presentation`` package beside the links and the
duplicate warning. ``scheduler_app.display.format_when`` (named by earlier docs for a module's
own pages) keeps working, with a DeprecationWarning; nothing in scheduler_app imports this module.
"""

import warnings
from typing import Any

from scheduler_app.presentation import display as _display

warnings.warn(
    "scheduler_app.display is now scheduler_app.presentation.display.",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    return getattr(_display, name)

"""Whether a command writes to a terminal: apart from the live progress, so that a crontab
pass, whose output goes to a file, can ask without importing it."""

from __future__ import annotations

from typing import Any


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

"""Who is running: host, pid and a per-process scheduler id."""

from __future__ import annotations

import os
import socket
import uuid
from functools import lru_cache


@lru_cache(maxsize=1)
def host() -> str:
    return socket.gethostname()[:150]


def pid() -> int:
    return os.getpid()


def holder() -> str:
    """``host:pid``, as stored in a task's lease."""
    return f"{host()}:{pid()}"


def new_token() -> str:
    return uuid.uuid4().hex

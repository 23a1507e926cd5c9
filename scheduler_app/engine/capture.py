"""Capture a task body's stdout, stderr and logging, bounded in size."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Iterator

TRUNCATED = "\n[output truncated]\n"


class BoundedBuffer(io.TextIOBase):
    """A text sink that keeps at most ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            # As a real text stream does: bytes kept here would break getvalue() later.
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.size < self.limit:
            room = self.limit - self.size
            piece = text[:room]
            self.parts.append(piece)
            self.size += len(piece)
            if len(text) > room:
                self.truncated = True
        elif text:
            self.truncated = True
        return len(text)

    def getvalue(self) -> str:
        value = "".join(self.parts)
        return value + TRUNCATED if self.truncated else value


# One formatter for every run's handler: it holds no state between records.
_FORMATTER = logging.Formatter("%(levelname)s %(name)s: %(message)s")


class _BufferHandler(logging.Handler):
    def __init__(self, buffer: BoundedBuffer) -> None:
        super().__init__(logging.INFO)
        self.buffer = buffer
        self.setFormatter(_FORMATTER)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.buffer.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never break a task
            pass


@contextlib.contextmanager
def captured(buffer: BoundedBuffer) -> Iterator[BoundedBuffer]:
    """Send stdout, stderr and INFO+ log records of the block into ``buffer``."""
    if buffer.limit <= 0:
        yield buffer
        return
    root = logging.getLogger()
    handler = _BufferHandler(buffer)
    old_level = root.level
    # setLevel clears every logger's level cache: a worker sets INFO once (keep_info_level).
    lower = _above_info(root)
    root.addHandler(handler)
    if lower:
        root.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        root.removeHandler(handler)
        if lower:
            root.setLevel(old_level)
        with contextlib.suppress(Exception):
            sys.stdout.flush()


def _above_info(logger: logging.Logger) -> bool:
    return logger.level > logging.INFO or logger.level == logging.NOTSET


def keep_info_level() -> None:
    """In a process that only runs bodies (a worker): the root logger at INFO for good.

    The level a captured body needs, set once instead of around every run.
    """
    root = logging.getLogger()
    if _above_info(root):
        root.setLevel(logging.INFO)

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


class _BufferHandler(logging.Handler):
    def __init__(self, buffer: BoundedBuffer) -> None:
        super().__init__(logging.INFO)
        self.buffer = buffer
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

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
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        with contextlib.suppress(Exception):
            sys.stdout.flush()

"""Write a running body's progress (``context.progress()``) to its log row, throttled.

A body may call ``progress()`` in its tightest loop: a call reads one flag
and keeps the newest values; the flag is raised by a clock thread once per
``PROGRESS_INTERVAL`` seconds, so at most one UPDATE per interval reaches the
database, in its own short transaction from the process
that runs the body (a worker, the scheduler itself inline, or a Tasks
worker). The values held back are written when the run ends. The write also
carries the output captured so far, so the run's page can show its tail live.
A failed write is logged and forgotten: progress never fails a run.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from scheduler_app.engine import storable
from scheduler_app.models import RunStatus, TaskExecutionLog

logger = logging.getLogger("scheduler_app.engine")

#: Shortest interval honoured: a smaller setting would turn progress into a write per call.
MIN_INTERVAL = 0.05
DEFAULT_INTERVAL = 1.0
MESSAGE_LIMIT = 200
LARGEST = 2**63 - 1  # a PositiveBigIntegerField

#: Starts the throttle's clock: ``clock(interval, tick)`` calls ``tick()`` every ``interval``
#: seconds until the function it returns is called. Tests inject a clock they advance by hand.
Clock = Callable[[float, Callable[[], None]], Callable[[], None]]


def thread_clock(interval: float, tick: Callable[[], None]) -> Callable[[], None]:
    """Tick from a daemon thread: the body's calls then only read a flag, never the time."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            tick()

    threading.Thread(target=run, name="scheduler-progress-clock", daemon=True).start()
    return stop.set


#: The clock of every reporter that is not given one.
clock: Clock = thread_clock


def count(value: Any, name: str) -> int:
    """``value`` as a whole number of 0 or more (a float is rounded down)."""
    if type(value) is int and 0 <= value <= LARGEST:  # the common case, first and fast
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"progress(): {name} must be a number, not {type(value).__name__}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"progress(): {name} must be a finite number, not {value!r}.")
    if not 0 <= value <= LARGEST:
        raise ValueError(f"progress(): {name} must be between 0 and {LARGEST}, not {value!r}.")
    return int(value)


def write_progress(
    log_id: int, done: int, total: int | None, message: str, output: str | None
) -> bool:
    """Store one progress report on the run's row, while it still runs; False if not written."""
    values: dict[str, Any] = {
        "progress_done": done,
        "progress_total": total,
        "progress_message": message,
        "progress_at": timezone.now(),
    }
    if output is not None:
        values["output"] = output
    try:
        with transaction.atomic():
            return bool(
                TaskExecutionLog.objects.filter(pk=log_id, status=RunStatus.RUNNING).update(
                    **values
                )
            )
    except DatabaseError:
        logger.warning("Could not record the progress of run %s.", log_id, exc_info=True)
        return False


class ProgressReporter:
    """The ``progress_sink`` of one run's context: validates, throttles, writes.

    The first report is written at once and starts the clock; after that a
    report is written when the clock has ticked since the last write, and the
    calls in between only keep their values. ``finish()`` writes what is still
    held and stops the clock; ``close()`` only stops it (a run that was cut short).
    """

    def __init__(
        self,
        log_id: int,
        *,
        interval: float,
        output: Callable[[], str] | None = None,
        clock: Clock | None = None,
        write: Callable[[int, int, int | None, str, str | None], Any] = write_progress,
    ) -> None:
        self.log_id = log_id
        self.interval = _seconds(interval)
        self.output = output
        self.clock = clock or globals()["clock"]
        self.write = write
        self.writes = 0
        self._due = True  # the first report is written at once
        self._stop_clock: Callable[[], None] | None = None
        self._held: tuple[int, int | None, Any] | None = None

    def tick(self) -> None:
        """The interval has passed: the next report is written (called by the clock)."""
        self._due = True

    def report(self, done: Any, total: Any = None, message: Any = "") -> None:
        """``context.progress()`` itself (a bound method: the cheapest call Python makes)."""
        # The hot path of a tight loop: whole numbers pass two checks, then one flag is read;
        # anything else takes the full check (which raises for what cannot be stored).
        if not (
            type(done) is int
            and 0 <= done <= LARGEST
            and (total is None or (type(total) is int and 0 <= total <= LARGEST))
        ):
            done = count(done, "done")
            total = None if total is None else count(total, "total")
        if not self._due:
            self._held = (done, total, message)
            return
        self._due = False
        self._held = None
        if self._stop_clock is None:
            self._stop_clock = self.clock(self.interval, self.tick)
        self._store((done, total, message))

    __call__ = report

    def finish(self) -> None:
        """Write the values held back since the last write (the run is ending); stop the clock."""
        self.close()
        if self._held is not None:
            held, self._held = self._held, None
            self._store(held)

    def close(self) -> None:
        """Stop the clock (also when the run was cut short and nothing more is written)."""
        if self._stop_clock is not None:
            stop, self._stop_clock = self._stop_clock, None
            stop()

    def _store(self, values: tuple[int, int | None, Any]) -> None:
        done, total, message = values
        text = storable.text(message, MESSAGE_LIMIT)
        output = None
        if self.output is not None:
            captured = self.output()
            output = storable.text(captured, len(captured) + 1)
        self.writes += 1
        self.write(self.log_id, done, total, text, output)


def _seconds(interval: Any) -> float:
    """The interval in seconds, at least MIN_INTERVAL; a setting that is not a number (system
    check E013 says so) falls back to the default rather than failing every run."""
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        return DEFAULT_INTERVAL
    if not math.isfinite(interval):
        return DEFAULT_INTERVAL
    return max(MIN_INTERVAL, float(interval))

"""The daemon: passes until told to stop. Signals only set a flag.

Between passes it sleeps up to ``sleep`` seconds, woken early when a task
becomes due (see :mod:`scheduler_app.engine.wake`). After a pass that ran
something it goes straight on: the work may have made more work due (chains,
queued events) and a backlog is worked off without pauses.

The workers and the two database threads (with their connections and lock
clients) live as long as the daemon, forked and opened before its first pass,
so a burst that wakes it pays none of that; a thread whose job failed (the database went
away) is replaced before the next pass.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from django.db import close_old_connections, connection

from scheduler_app.engine import locks
from scheduler_app.engine.background import PassThreads
from scheduler_app.engine.passes import (
    PassOptions,
    PassReport,
    RunLine,
    SchedulerPass,
    make_pool,
)
from scheduler_app.engine.wake import Waiter
from scheduler_app.engine.workers import WorkerPool
from scheduler_app.models import ScheduledTask, TaskStatus

logger = logging.getLogger("scheduler_app.engine")


class SchedulerLoop:
    def __init__(
        self,
        options: PassOptions,
        *,
        sleep: float,
        on_line: Callable[[RunLine], None] | None = None,
        on_pass: Callable[[PassReport], None] | None = None,
        max_passes: int | None = None,
    ) -> None:
        self.options = options
        self.sleep = sleep
        self.on_line = on_line
        self.on_pass = on_pass
        self.max_passes = max_passes
        self.shutdown = False
        self.passes = 0
        self.waiter = Waiter(self._waiting_tasks)
        self.threads: PassThreads | None = None  # the database threads of the passes
        self.pool = None  # the workers of the passes
        self.woken_by = ""  # why the last nap ended (for tests and debugging)

    def _waiting_tasks(self):  # noqa: ANN202
        """The tasks this daemon would claim once due (its filters applied)."""
        return self.options.filters.apply(
            ScheduledTask.objects.filter(enabled=True, status=TaskStatus.PENDING)
        )

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        """Finish the work in flight, then stop (SIGTERM / SIGINT)."""
        self.shutdown = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self) -> int:
        self.pool = None
        try:
            self.threads = self._usable(self.threads)
            self.pool = self._start_workers(self.threads)
            while not self.shutdown:
                self.threads = self._usable(self.threads)
                scheduler_pass = SchedulerPass(
                    self.options,
                    pool=self.pool,
                    threads=self.threads,
                    on_line=self.on_line,
                    should_stop=lambda: self.shutdown,
                )
                busy = False
                try:
                    # What is due as the pass starts is the pass's; what becomes due later wakes.
                    self.waiter.settle()
                    report = scheduler_pass.run()
                    busy = sum(report.by_status.values()) > 0
                    if self.on_pass:
                        self.on_pass(report)
                except Exception:  # noqa: BLE001 - e.g. the database is briefly down: try again
                    logger.exception("Scheduler pass failed; retrying after %.1f s.", self.sleep)
                    close_old_connections()
                    # Their connections may be as broken as this thread's: the next pass
                    # opens new ones rather than failing once more on the old.
                    if self.threads is not None:
                        self._close(self.threads)
                        self.threads = None
                self.pool = scheduler_pass.pool
                self.passes += 1
                if self.max_passes is not None and self.passes >= self.max_passes:
                    break
                if not busy:
                    self._nap()
        finally:
            self.waiter.close()
            try:
                if self.threads is not None:
                    self._close(self.threads)
                    self.threads = None
            finally:
                if self.pool is not None:
                    self.pool.close()
                    self.pool = None
        return self.passes

    def _start_workers(self, threads: PassThreads):  # noqa: ANN202
        """The pool of the daemon's passes, its workers forked now (between two database
        jobs): the first burst that wakes the daemon does not wait for the forks."""
        pool = make_pool(self.options)
        if isinstance(pool, WorkerPool):
            pool.start(threads.fork_guard())
        return pool

    def _usable(self, threads: PassThreads | None) -> PassThreads:
        """The database threads for the next pass: these, or new ones if a job of theirs failed."""
        if threads is not None and not threads.failed:
            return threads
        if threads is not None:
            self._close(threads)
        threads = PassThreads()
        for thread in (threads.claims, threads.records):
            thread.submit(_connect)
        return threads

    @staticmethod
    def _close(threads: PassThreads) -> None:
        try:
            threads.close()
        except Exception:  # noqa: BLE001 - the failed pass has logged it already
            logger.debug("Closing the database threads after a failed job.", exc_info=True)

    def _nap(self) -> None:
        try:
            self.woken_by = self.waiter.wait(self.sleep, lambda: self.shutdown)
        except Exception:  # noqa: BLE001 - waking early is an optimisation: fall back to sleeping
            logger.exception("Waiting for wake-ups failed; sleeping %.1f s.", self.sleep)
            self.woken_by = "timeout"
            deadline = time.monotonic() + self.sleep
            while not self.shutdown and time.monotonic() < deadline:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def _connect() -> None:
    """A database thread's first job: its connection and lock client, before any burst."""
    try:
        connection.ensure_connection()
    except Exception:  # noqa: BLE001 - the pass that needs it reports the database's state
        logger.debug("Database not reachable at start.", exc_info=True)
        return
    locks.connect()

"""The daemon: passes until told to stop. Signals only set a flag."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from django.db import close_old_connections

from scheduler_app.engine.passes import PassOptions, PassReport, RunLine, SchedulerPass

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

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        """Finish the work in flight, then stop (SIGTERM / SIGINT)."""
        self.shutdown = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self) -> int:
        pool = None
        try:
            while not self.shutdown:
                scheduler_pass = SchedulerPass(
                    self.options, pool=pool, on_line=self.on_line, should_stop=lambda: self.shutdown
                )
                try:
                    report = scheduler_pass.run()
                    if self.on_pass:
                        self.on_pass(report)
                except Exception:  # noqa: BLE001 - e.g. the database is briefly down: try again
                    logger.exception("Scheduler pass failed; retrying after %.1f s.", self.sleep)
                    close_old_connections()
                pool = scheduler_pass.pool
                self.passes += 1
                if self.max_passes is not None and self.passes >= self.max_passes:
                    break
                self._nap()
        finally:
            if pool is not None:
                pool.close()
        return self.passes

    def _nap(self) -> None:
        deadline = time.monotonic() + self.sleep
        while not self.shutdown and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

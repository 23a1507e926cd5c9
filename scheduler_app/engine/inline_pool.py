"""Run task bodies in the scheduler process itself (EXECUTION "inline"): no isolation.

Timeouts are enforced by SIGALRM when running in the main thread; a body
cannot be stopped from outside. While a body runs, the pass cannot renew its
lease (the thread that would is inside the body): a keep-alive thread does, so
a body longer than the lease is not taken for a dead scheduler's and run again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable

from django.db import connections
from django.utils import timezone

from scheduler_app.engine import runner
from scheduler_app.engine.runspec import FAILED, TIMEOUT, Outcome, RunSpec, Stop

logger = logging.getLogger("scheduler_app.engine")


class InlinePool:
    """Runs bodies in the scheduler process: no isolation; timeouts by SIGALRM."""

    def __init__(self, output_limit: int) -> None:
        self.output_limit = output_limit

    def run(
        self,
        specs: Iterable[RunSpec],
        on_outcome: Callable[[Outcome], None],
        on_tick: Callable[[], None] | None = None,
        tick_every: float = 1.0,
        should_stop: Callable[[], bool] | None = None,
        refill: Callable[[], list[RunSpec] | None] | None = None,
        interrupts: Callable[[list[int]], dict[int, str]] | None = None,
        grace: float = 10.0,
        keepalive: Callable[[], object] | None = None,
        keepalive_every: float = 30.0,
    ) -> list[RunSpec]:
        """Run ``specs`` one by one; ``keepalive`` is called every ``keepalive_every`` seconds
        on a thread of its own while a body runs. Returns the specs left by a stop request."""
        # In-process bodies cannot be stopped from outside; interrupts need process workers.
        queue = deque(specs)
        keeper = KeepAlive(keepalive, keepalive_every) if keepalive else None
        try:
            while queue:
                if should_stop and should_stop():
                    break
                spec = queue.popleft()
                if keeper is not None:
                    keeper.body_started()
                try:
                    outcome = self.run_one(spec)
                finally:
                    if keeper is not None:
                        keeper.body_ended()
                on_outcome(outcome)
                if on_tick:
                    on_tick()
        finally:
            if keeper is not None:
                keeper.close()
        return list(queue)

    def run_one(self, spec: RunSpec) -> Outcome:
        """Run one body here, ended as a timeout after ``spec.timeout`` (main thread only)."""
        started = timezone.now()
        use_alarm = hasattr(signal, "SIGALRM") and _in_main_thread()

        def on_alarm(signum, frame):  # noqa: ANN001
            raise _InlineTimeout

        if use_alarm:
            previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, max(1, spec.timeout))
        try:
            return runner.execute(spec, self.output_limit)
        except _InlineTimeout:
            return Outcome(
                spec, TIMEOUT, started, timezone.now(), error=f"Timed out after {spec.timeout} s."
            )
        except Stop as exc:  # the engine's own exception, raised by the body itself
            return Outcome(
                spec,
                FAILED,
                started,
                timezone.now(),
                error=f"The task raised {runner.error_text(exc)}",
                traceback=runner.format_traceback(),
                retry=False,
            )
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

    def close(self) -> None:
        pass


class KeepAlive:
    """Calls ``renew`` every ``every`` seconds on its own thread, only while a body runs.

    ``body_ended`` waits for a renewal in progress, so the pass never records a run
    while this thread still writes the same task rows (no lock order to get wrong).
    """

    def __init__(self, renew: Callable[[], object], every: float) -> None:
        self.renew = renew
        self.every = max(0.01, every)
        self._busy = threading.Lock()  # held by a renewal, and by the pass between bodies
        self._busy.acquire()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="scheduler-keepalive", daemon=True)
        self._thread.start()

    def body_started(self) -> None:
        self._busy.release()

    def body_ended(self) -> None:
        self._busy.acquire()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _serve(self) -> None:
        try:
            while not self._stop.wait(self.every):
                if not self._busy.acquire(timeout=self.every):
                    continue  # no body running: the pass renews between bodies itself
                try:
                    self.renew()
                except Exception as exc:  # noqa: BLE001 - the next turn tries again
                    logger.warning("Could not renew the lease during an inline run (%s).", exc)
                finally:
                    self._busy.release()
        finally:
            connections.close_all()


class _InlineTimeout(Stop):
    """Raised by SIGALRM in inline mode; a BaseException so bodies do not swallow it."""


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()

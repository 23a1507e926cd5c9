"""Run task bodies in the scheduler process itself (EXECUTION "inline"): no isolation.

Timeouts are enforced by SIGALRM when running in the main thread; a body
cannot be stopped from outside.
"""

from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable

from django.utils import timezone

from scheduler_app.engine import runner
from scheduler_app.engine.runspec import FAILED, TIMEOUT, Outcome, RunSpec, Stop


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
    ) -> list[RunSpec]:
        # In-process bodies cannot be stopped from outside; interrupts need process workers.
        queue = deque(specs)
        while queue:
            if should_stop and should_stop():
                break
            on_outcome(self.run_one(queue.popleft()))
            if on_tick:
                on_tick()
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


class _InlineTimeout(Stop):
    """Raised by SIGALRM in inline mode; a BaseException so bodies do not swallow it."""


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()

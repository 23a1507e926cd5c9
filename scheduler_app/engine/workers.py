"""Run task bodies in worker processes, with timeouts and crash detection.

Workers are forked once and reused. The parent hands a worker one RunSpec at
a time over a pipe and waits on all pipes and process sentinels at once, so a
body that raises, hangs, exits or dies by a signal costs one worker (which is
replaced), never the scheduler.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from typing import Any

from django.db import connections
from django.utils import timezone

from scheduler_app.engine import runner
from scheduler_app.engine.runspec import (
    CANCELLED,
    FAILED,
    TIMEOUT,
    Outcome,
    RunSpec,
    Stop,
    pack,
    unpack,
)

_inherited: list[object] = []  # parent's DB connections, kept alive and unused in a child


def _detach_parent_connections() -> None:
    # A forked child must never use or close the parent's sockets: closing
    # would end the parent's database session. Keep them referenced, forget them.
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None


class Interrupted(Stop):
    """Raised in a task body when its run is stopped (SIGTERM): finally blocks still run."""


_running = None  # shared value: the log id whose body this worker is running
_stop = None  # shared value: the log id the parent asked to stop


def _on_sigterm(signum: int, frame: object) -> None:
    # Only the run that was asked to stop is interrupted; a signal that arrives
    # just after it finished must not hit the next body.
    if _running is not None and _stop is not None and _running.value == _stop.value != 0:
        raise Interrupted


def _die_with_parent() -> None:
    """Have the kernel kill this worker when its scheduler dies (kill -9, OOM killer).

    An orphaned worker would finish its body after the run was recovered and
    retried elsewhere: the work done twice. Linux only (prctl); elsewhere an
    orphan notices when it next talks to the gone parent.
    """
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the scheduler died before the request took effect
        os._exit(0)


def _worker_main(channel: Connection, output_limit: int, running, stop) -> None:  # noqa: ANN001
    global _running, _stop
    _die_with_parent()
    _running, _stop = running, stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, _on_sigterm)
    _detach_parent_connections()
    try:
        while True:
            try:
                specs = channel.recv()
            except (EOFError, OSError):
                break
            if specs is None:
                break
            for spec in specs:
                running.value = spec.log_id
                outcome = _run(spec, output_limit)
                running.value = 0
                _send(channel, outcome)
    finally:
        os._exit(0)


def _run(spec: RunSpec, output_limit: int) -> Outcome:
    """The outcome of ``spec``; should the runner itself fail, a failed outcome saying so."""
    started = timezone.now()
    try:
        return runner.execute(spec, output_limit)
    except Stop:
        raise
    except BaseException as exc:  # noqa: BLE001 - e.g. MemoryError: this run fails, the worker stays
        return Outcome(
            spec,
            FAILED,
            started,
            timezone.now(),
            error=f"The worker could not run the task: {runner.error_text(exc)}",
            traceback=runner.format_traceback(),
            retry=False,
        )


def _send(channel: Connection, outcome: Outcome) -> None:
    """Send ``outcome`` back; if it cannot be pickled, a failed outcome saying why."""
    try:
        channel.send(pack(outcome))
    except (EOFError, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - made storable already; this is the last guard
        channel.send(
            pack(
                Outcome(
                    outcome.spec,
                    FAILED,
                    outcome.started_at,
                    outcome.finished_at,
                    error=f"The run's outcome could not be sent back: {runner.error_text(exc)}",
                    retry=False,
                )
            )
        )


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "The worker process died."
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"The worker process was killed by {name}."
    return f"The worker process exited with code {exitcode} (os._exit or a crash)."


class _Worker:
    """One worker process and the runs handed to it, oldest (the one running) first."""

    def __init__(self, ctx: multiprocessing.context.ForkContext, output_limit: int) -> None:
        self.channel, child = ctx.Pipe(duplex=True)
        self.running = ctx.Value("q", 0, lock=False)
        self.stop_target = ctx.Value("q", 0, lock=False)
        self.process = ctx.Process(
            target=_worker_main,
            daemon=True,
            args=(child, output_limit, self.running, self.stop_target),
        )
        self.process.start()
        child.close()
        self.inflight: deque[RunSpec] = deque()
        self.started_at = timezone.now()
        self.deadline = 0.0
        self.stopped_by = ""  # set when the running spec was asked to stop

    def assign(self, specs: list[RunSpec]) -> None:
        """Hand ``specs`` over; OSError (nothing recorded) if the worker has died."""
        self.channel.send(specs)
        if not self.inflight:
            self._start_clock(specs[0])
        self.inflight.extend(specs)

    def _start_clock(self, spec: RunSpec) -> None:
        self.started_at = timezone.now()
        self.deadline = time.monotonic() + max(1, spec.timeout)

    def finished_one(self) -> RunSpec:
        """The running spec reported back; the next handed one starts now."""
        spec = self.inflight.popleft()
        if self.inflight:
            self._start_clock(self.inflight[0])
        return spec

    def request_stop(self, by: str, grace: float) -> None:
        """SIGTERM the running body now; SIGKILL when ``grace`` is over (the deadline path)."""
        self.stopped_by = by
        self.deadline = min(self.deadline, time.monotonic() + grace)
        self.stop_target.value = self.inflight[0].log_id
        if self.process.pid is None:  # never started
            return
        try:
            os.kill(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.channel.close()

    def stop(self) -> None:
        try:
            self.channel.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.channel.close()


class WorkerPool:
    """A fixed number of forked workers executing RunSpecs.

    Each worker is handed a few runs at a time (fewer as the queue drains),
    so a busy machine does not pay a process round trip per run. A run's
    timeout starts when the worker reports the previous run done.
    """

    MAX_PREFETCH = 8

    def __init__(self, size: int, output_limit: int) -> None:
        self.size = max(1, size)
        self.output_limit = output_limit
        self._ctx = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []
        self._fork_guard: Any = None

    def _spawn(self) -> _Worker:
        # Close the parent's connections first: the child must not inherit live sessions;
        # and never fork while another thread is inside a database call.
        with self._fork_guard or contextlib.nullcontext():
            connections.close_all()
            return _Worker(self._ctx, self.output_limit)

    def _ensure_started(self) -> None:
        if not self._workers:
            connections.close_all()
            self._workers = [_Worker(self._ctx, self.output_limit) for _ in range(self.size)]

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
        fork_guard: Any = None,
    ) -> list[RunSpec]:
        """Execute ``specs`` (and what ``refill`` supplies as the queue runs low).

        ``refill`` returns more specs, [] while more are on their way, or None
        when there are no more. ``fork_guard`` (a lock) is held while forking a
        replacement worker.

        On each tick ``interrupts`` maps the log ids in flight to who asked to
        stop them; those runs end ``cancelled``.

        Returns the specs left undispatched because of a stop request.
        """
        queue = deque(specs)
        if not queue:
            return []
        self._ensure_started()
        self._fork_guard = fork_guard
        next_tick = time.monotonic() + tick_every
        exhausted = refill is None
        low_water = 2 * self.size * self.MAX_PREFETCH
        while True:
            stopping = should_stop() if should_stop else False
            if not stopping:
                self._hand_out(queue)
                if len(queue) < low_water and not exhausted and refill is not None:
                    more = refill()
                    if more is None:
                        exhausted = True
                    elif more:
                        queue.extend(more)
                        self._hand_out(queue)
            busy = [w for w in self._workers if w.inflight]
            if not busy:
                if stopping or exhausted:
                    break
                time.sleep(0.002)  # the next batch is being claimed
                continue
            timeout = max(0.0, min(min(w.deadline for w in busy), next_tick) - time.monotonic())
            ready = set(
                wait([w.channel for w in busy] + [w.process.sentinel for w in busy], timeout)
            )
            for index, worker in enumerate(self._workers):
                if worker.inflight and not self._drain(worker, ready, on_outcome, queue):
                    self._workers[index] = self._spawn()
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + tick_every
                if on_tick:
                    on_tick()
                if interrupts:
                    self._stop_requested(queue, interrupts, grace, on_outcome)
        return list(queue)

    def _stop_requested(
        self,
        queue: deque[RunSpec],
        interrupts: Callable[[list[int]], dict[int, str]],
        grace: float,
        on_outcome: Callable[[Outcome], None],
    ) -> None:
        running = {
            w.inflight[0].log_id: w for w in self._workers if w.inflight and not w.stopped_by
        }
        waiting = {spec.log_id: spec for spec in queue}
        if not running and not waiting:
            return
        requested = interrupts([*running, *waiting])
        for log_id, by in requested.items():
            if log_id in running:
                running[log_id].request_stop(by, grace)
            elif log_id in waiting:
                queue.remove(waiting[log_id])
                now = timezone.now()
                on_outcome(
                    Outcome(
                        waiting[log_id],
                        CANCELLED,
                        now,
                        now,
                        error=f"Stopped by {by} before it started.",
                    )
                )

    def _hand_out(self, queue: deque[RunSpec]) -> None:
        for index, worker in enumerate(self._workers):
            if not queue:
                return
            if len(worker.inflight) > 1:
                continue
            share = max(1, min(self.MAX_PREFETCH, len(queue) // (2 * self.size)))
            batch = [queue.popleft() for _ in range(min(share, len(queue)))]
            try:
                worker.assign(batch)
            except OSError:
                # The worker died (a body crashed it) before it could take these: they go
                # back to the queue; its own run is reported by _drain, an idle one replaced.
                queue.extendleft(reversed(batch))
                if not worker.inflight:
                    worker.kill()
                    self._workers[index] = self._spawn()

    def _drain(
        self,
        worker: _Worker,
        ready: set,
        on_outcome: Callable[[Outcome], None],
        queue: deque[RunSpec],
    ) -> bool:
        """Collect what ``worker`` finished; False if it had to be killed or died."""
        if worker.channel in ready:
            try:
                while worker.inflight and worker.channel.poll():
                    packed = worker.channel.recv()
                    outcome = unpack(worker.finished_one(), packed)
                    if worker.stopped_by:  # it finished before the signal took effect
                        worker.stopped_by, worker.stop_target.value = "", 0
                    on_outcome(outcome)
                return True
            except (EOFError, OSError):
                pass  # died while answering: a crash, below
        elif worker.process.sentinel not in ready:
            if time.monotonic() < worker.deadline:
                return True
            spec = worker.inflight[0]
            worker.kill()
            if worker.stopped_by:
                outcome = Outcome(
                    spec,
                    CANCELLED,
                    worker.started_at,
                    timezone.now(),
                    error=f"Stopped by {worker.stopped_by} (killed after the grace period).",
                )
            else:
                outcome = Outcome(
                    spec,
                    TIMEOUT,
                    worker.started_at,
                    timezone.now(),
                    error=f"Timed out after {spec.timeout} s; the worker was killed.",
                )
            self._fail_current(worker, queue, on_outcome, outcome)
            return False
        worker.process.join(5)
        message = describe_exit(worker.process.exitcode)
        worker.kill()
        if worker.stopped_by:
            outcome = Outcome(
                worker.inflight[0],
                CANCELLED,
                worker.started_at,
                timezone.now(),
                error=f"Stopped by {worker.stopped_by}.",
            )
        else:
            outcome = Outcome(
                worker.inflight[0], FAILED, worker.started_at, timezone.now(), error=message
            )
        self._fail_current(worker, queue, on_outcome, outcome)
        return False

    @staticmethod
    def _fail_current(
        worker: _Worker,
        queue: deque[RunSpec],
        on_outcome: Callable[[Outcome], None],
        outcome: Outcome,
    ) -> None:
        worker.inflight.popleft()
        # Runs handed to the dead worker but not started go back to the front of the queue.
        queue.extendleft(reversed(worker.inflight))
        worker.inflight.clear()
        on_outcome(outcome)

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []


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
            on_outcome(self._run_one(queue.popleft()))
            if on_tick:
                on_tick()
        return list(queue)

    def _run_one(self, spec: RunSpec) -> Outcome:
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
    import threading

    return threading.current_thread() is threading.main_thread()

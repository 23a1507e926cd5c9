"""Run task bodies in worker processes, with timeouts and crash detection.

Workers are forked once and reused. The parent hands a worker one RunSpec at
a time over a pipe and waits on all pipes and process sentinels at once, so a
body that raises, hangs, exits or dies by a signal costs one worker (which is
replaced), never the scheduler. The child's side lives in ``worker_process``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

from django.db import connections
from django.utils import timezone

from scheduler_app.engine.runspec import CANCELLED, FAILED, TIMEOUT, Outcome, RunSpec, unpack
from scheduler_app.engine.worker_process import WorkerProcess


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
        self._workers: list[WorkerProcess] = []
        self._fork_guard: Any = None

    def _spawn(self) -> WorkerProcess:
        # Close the parent's connections first: the child must not inherit live sessions;
        # and never fork while another thread is inside a database call.
        with self._fork_guard or contextlib.nullcontext():
            connections.close_all()
            return WorkerProcess(self._ctx, self.output_limit)

    def start(self, fork_guard: Any = None) -> None:
        """Fork the workers now rather than at the first run (``fork_guard`` held)."""
        self._fork_guard = fork_guard
        self._ensure_started()

    def _ensure_started(self) -> None:
        if not self._workers:
            with self._fork_guard or contextlib.nullcontext():
                connections.close_all()
                self._workers = [
                    WorkerProcess(self._ctx, self.output_limit) for _ in range(self.size)
                ]

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
        await_refill: Callable[[float], object] | None = None,
    ) -> list[RunSpec]:
        """Execute ``specs`` (and what ``refill`` supplies as the queue runs low).

        ``refill`` returns more specs, [] while more are on their way, or None
        when there are no more. ``fork_guard`` (a lock) is held while forking a
        replacement worker.

        On each tick ``interrupts`` maps the log ids in flight to who asked to
        stop them; those runs end ``cancelled``.

        ``await_refill(seconds)`` blocks until the refill on its way is ready (or
        the seconds pass): with every worker idle, the pool waits on it instead of
        polling.

        Returns the specs left undispatched because of a stop request.
        """
        queue = deque(specs)
        if not queue:
            return []
        self._fork_guard = fork_guard
        self._ensure_started()
        next_tick = time.monotonic() + tick_every
        exhausted = refill is None
        while True:
            stopping = should_stop() if should_stop else False
            if not stopping:
                self._hand_out(queue)
                # Asked on every turn: ``refill`` (the pass's pacer) decides when the next
                # claim starts, so it is on its way while the queued runs still execute.
                if not exhausted and refill is not None:
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
                # The next batch is being claimed. Polling for it every few milliseconds
                # cost a daemon whose claims wait for the CPU (many schedulers on few
                # cores) more than the claims themselves.
                pause = max(0.0, min(0.1, next_tick - time.monotonic()))
                if await_refill is not None:
                    await_refill(pause)
                else:
                    time.sleep(min(pause, 0.002))
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + tick_every
                    if on_tick:
                        on_tick()
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
        worker: WorkerProcess,
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
        worker: WorkerProcess,
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

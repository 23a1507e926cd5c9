"""One forked worker process: the child's loop that runs bodies, and the parent's handle on it.

The child takes RunSpecs over a pipe, runs each body and sends its Outcome
back. It dies with its scheduler, ignores SIGINT (the parent decides when to
stop) and turns a SIGTERM aimed at its running body into ``Interrupted``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from multiprocessing.connection import Connection

from django.db import connections
from django.utils import timezone

from scheduler_app.engine import capture, runner
from scheduler_app.engine.runspec import FAILED, Outcome, RunSpec, Stop, pack

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
    capture.keep_info_level()
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


class WorkerProcess:
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

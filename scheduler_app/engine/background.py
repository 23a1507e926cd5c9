"""Threads for a pass's database work, so the workers keep running while it waits.

Jobs submitted to a thread run one after another, in order, on the thread's
own database connection. A pass keeps two (``PassThreads``): one claims, the
other records and renews the lease, so a claim never waits behind a chunk
being recorded (two connections, as two schedulers would have). Each thread
holds ``guard`` while a job runs; the worker pool takes every guard
(``ForkGuard``) before forking, so a child is never forked while a thread is
inside a database call.

A daemon keeps one pair for all its passes. A new thread opens a database
connection and, on first lock, a lock-cache client of its own (Django keeps
both per thread), a few milliseconds each: paid once per pass, that was most
of what a daemon spent beside its bodies when many daemons share a burst and
each passes often with little to do.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


class Job:
    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self.fn = fn
        self.args = args
        self.result: Any = None
        self.done = threading.Event()


class DatabaseThread:
    def __init__(self, name: str = "scheduler-db") -> None:
        self.guard = threading.Lock()
        self.error: BaseException | None = None
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Job:
        job = Job(fn, args)
        self._jobs.put(job)
        return job

    def _serve(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                with self.guard:
                    if self.error is None:  # after a failure, later jobs are dropped
                        try:
                            job.result = job.fn(*job.args)
                        except BaseException as exc:  # noqa: BLE001 - re-raised by close()
                            self.error = exc
                job.done.set()
        finally:
            connections.close_all()

    def drain(self) -> None:
        """Wait until the jobs submitted so far have run; re-raise a job's error."""
        self.submit(_nothing).done.wait()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Finish the submitted jobs, stop the thread; re-raise a job's error."""
        self._jobs.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


def _nothing() -> None:
    return None


class PassThreads:
    """The claiming and the recording thread of a pass, or of every pass of a daemon."""

    def __init__(self) -> None:
        self.claims = DatabaseThread("scheduler-claims")
        self.records = DatabaseThread("scheduler-records")

    @property
    def failed(self) -> bool:
        return self.claims.error is not None or self.records.error is not None

    def fork_guard(self) -> ForkGuard:
        return ForkGuard(self.claims, self.records)

    def drain(self) -> None:
        """Wait for both threads' jobs (the records after the claims); re-raise an error."""
        try:
            self.claims.drain()
        finally:
            self.records.drain()

    def close(self) -> None:
        """Finish both threads' jobs, stop them and close their connections."""
        try:
            self.claims.close()
        finally:
            self.records.close()


class ForkGuard:
    """Held while forking a worker: every thread given is between two jobs."""

    def __init__(self, *threads: DatabaseThread) -> None:
        self._locks = [thread.guard for thread in threads]

    def __enter__(self) -> None:
        for lock in self._locks:  # always in the same order: no two holders wait on each other
            lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        for lock in reversed(self._locks):
            lock.release()

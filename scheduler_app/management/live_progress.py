"""Live progress of the runs a command's own pass is running (``runscheduler``, ``scheduler_run``).

On a terminal: one rich progress bar per running run (done/total, percent,
message, elapsed, time left), cleared when the pass ends; elsewhere (a log
file, a pipe): a plain line whenever a run's progress changed, at most once
per poll. A thread reads the runs' rows every ``interval`` seconds through
its own database connection; the bodies are never waited on.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from django.db import DatabaseError, connection
from django.utils import timezone

from scheduler_app.engine import identity
from scheduler_app.management.terminal import is_terminal
from scheduler_app.services import live

POLL_SECONDS = 0.5


def progress_line(run: live.LiveRun) -> str:
    """``#12 Monthly report: 40/100 (40.0 %) Writing row 40 of 100, 12 s, about 18 s left``."""
    text = f"#{run.task.pk} {run.task.name}: "
    if run.done is None:
        text += "running"
    else:
        text += f"{run.done}/{run.total}" if run.total is not None else str(run.done)
        if run.percent is not None:
            text += f" ({run.percent:.1f} %)"
    message = run.message.strip().splitlines()[0][:120] if run.message.strip() else ""
    if message:
        text += f" {message}"
    text += f", {run.elapsed:.0f} s"
    if run.seconds_left is not None:
        text += f", about {run.seconds_left:.0f} s left"
    return text


class PlainProgress:
    """A line per change of a run's progress (not a terminal)."""

    reporting_only = True  # runs that never report progress print nothing here

    def __init__(self, write: Callable[[str], Any]) -> None:
        self.write = write
        self.seen: dict[int, tuple] = {}

    def show(self, runs: list[live.LiveRun]) -> None:
        for run in runs:
            key = (run.done, run.total, run.message)
            if run.done is not None and self.seen.get(run.id) != key:
                self.seen[run.id] = key
                self.write(progress_line(run))

    def close(self) -> None:
        pass


class RichProgress:
    """One rich progress bar per running run (a terminal)."""

    reporting_only = False

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[left]}"),
            TextColumn("{task.fields[message]}"),
            console=Console(file=stream),
            auto_refresh=False,
            transient=True,
        )
        self.bars: dict[int, Any] = {}
        self.progress.start()

    def show(self, runs: list[live.LiveRun]) -> None:
        current = {run.id for run in runs}
        for run_id in [r for r in self.bars if r not in current]:
            self.progress.remove_task(self.bars.pop(run_id))
        for run in runs:
            message = run.message.strip().splitlines()[0][:60] if run.message.strip() else ""
            left = f"~{run.seconds_left:.0f} s left" if run.seconds_left is not None else ""
            if run.id not in self.bars:
                self.bars[run.id] = self.progress.add_task(
                    f"#{run.task.pk} {run.task.name[:40]}",
                    total=run.total,
                    completed=run.done or 0,
                    message=message,
                    left=left,
                )
            else:
                self.progress.update(
                    self.bars[run.id],
                    total=run.total,
                    completed=run.done or 0,
                    message=message,
                    left=left,
                )
        self.progress.refresh()

    def close(self) -> None:
        self.progress.stop()


def make_display(out: Any) -> PlainProgress | RichProgress:
    """Bars when the command's ``out`` is a terminal (and rich is installed), else lines."""
    if is_terminal(out):
        try:
            # The terminal itself: the command's wrapper would end each of rich's writes
            # with a newline.
            return RichProgress(sys.stdout)
        except ImportError:
            pass
    return PlainProgress(out.write)


class LiveProgress:
    """While the block runs, show the progress of this process's running runs."""

    def __init__(
        self,
        display: PlainProgress | RichProgress,
        *,
        task_ids: Iterable[int] = (),
        interval: float = POLL_SECONDS,
    ) -> None:
        self.display = display
        self.task_ids = tuple(task_ids)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> list[live.LiveRun]:
        """Read and show the runs once (the thread's step; tests call it directly)."""
        runs = live.running_in(
            identity.host(),
            identity.pid(),
            now=timezone.now(),
            task_ids=self.task_ids,
            reporting_only=self.display.reporting_only,
        )
        self.display.show(runs)
        return runs

    def _watch(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.poll()
                except DatabaseError:
                    pass  # the next poll tries again; the pass itself reports database trouble
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> LiveProgress:
        self._thread = threading.Thread(target=self._watch, name="scheduler-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.display.close()

"""Wake a sleeping ``runscheduler --loop`` as soon as a task becomes due.

Whatever makes a task due now (run now, a new task due now, an emitted event,
a chain) calls :func:`notify` inside its transaction. On PostgreSQL that is
``pg_notify`` on :data:`CHANNEL`, which the server delivers when the
transaction commits (and drops if it rolls back); the daemon waits on a
``LISTEN`` connection between passes, so it wakes within milliseconds and
uses no CPU while nothing happens.

Elsewhere (SQLite), and with ``SCHEDULER["WAKE"] = "poll"`` (PostgreSQL
behind a transaction-pooling PgBouncer, where LISTEN cannot work), the
daemon polls a cheap marker every POLL_SECONDS instead: the count and id sum
of the due tasks, one index range scan. It wakes when that set changes, so a
due task it cannot take (locked elsewhere) does not make it spin.

Either way the daemon also wakes for the earliest ``next_run`` ahead, so a
cron slot starts on time rather than up to ``LOOP_SLEEP`` late.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connections
from django.db.models import Count, Min, Sum
from django.utils import timezone

from scheduler_app import conf
from scheduler_app.models import ScheduledTask, TaskStatus

logger = logging.getLogger("scheduler_app.engine")

CHANNEL = "scheduler_app_wake"
POLL_SECONDS = 0.5
SLICE_SECONDS = 1.0  # longest uninterrupted wait, so a stop request is seen promptly


def listens(using: str = "default") -> bool:
    """Whether daemons on this database wait for notifications (else they poll)."""
    mode = conf.get().WAKE
    return mode == "auto" and connections[using].vendor == "postgresql"


DUE, LATER = "due", "later"


def notify(using: str = "default", what: str = DUE) -> None:
    """Tell sleeping daemons a task is due (or due ``LATER``: when to wake may have changed).

    Delivered when the transaction commits; nothing if it rolls back.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or conf.get().WAKE == "off":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, what])


def on_task_saved(sender: Any, instance: ScheduledTask, using: str, **kwargs: Any) -> None:
    """post_save: a task saved due now (run now, resumed, created due) wakes the daemons;
    one saved due later has them look again at when to wake."""
    if instance.enabled and instance.status == TaskStatus.PENDING and instance.next_run:
        soon = instance.next_run <= timezone.now() + dt.timedelta(seconds=1)
        notify(using, DUE if soon else LATER)


class Waiter:
    """Sleeps between a daemon's passes until woken, a task's time comes, or ``seconds`` pass."""

    def __init__(self, due_queryset: Callable[[], Any], using: str = "default") -> None:
        self.due_queryset = due_queryset  # the daemon's filters applied to the tasks
        self.using = using
        self._listener: Any = None
        self._marker: tuple | None = None

    def settle(self) -> None:
        """Called as a pass starts: what is due now is the pass's, not news.

        On PostgreSQL it listens from here on, so a wake-up sent while the first
        pass runs (before the first nap) is waiting when the nap begins, not lost.
        """
        if listens(self.using):
            self._listen()
        else:
            self._marker = self._due_marker()

    def wait(self, seconds: float, should_stop: Callable[[], bool]) -> str:
        """Block until a reason to run a pass; return it ("notified", "due", "timeout", "stop")."""
        latest = time.monotonic() + max(0.0, seconds)
        deadline = self._next_slot_or(latest)
        listening = listens(self.using) and self._listen()
        while not should_stop():
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            if listening:
                heard = self._notified(min(left, SLICE_SECONDS))
                if heard == DUE:
                    return "notified"
                if heard == LATER:
                    deadline = self._next_slot_or(latest)
                continue
            time.sleep(min(left, POLL_SECONDS))
            if self._changed():
                return "due"
        return "stop"

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None

    # -- PostgreSQL: LISTEN ------------------------------------------------------

    def _listen(self) -> bool:
        if self._listener is not None and not self._listener.closed:
            return True
        import psycopg

        try:
            params = connections[self.using].get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            self._listener = psycopg.connect(**params, autocommit=True)
            self._listener.execute(f"LISTEN {CHANNEL}")
        except (psycopg.Error, DatabaseError) as exc:
            logger.warning("Cannot LISTEN for wake-ups (%s); polling instead.", exc)
            self.close()
            return False
        return True

    def _notified(self, timeout: float) -> str:
        """DUE, LATER (only schedules changed) or "" (nothing within ``timeout``)."""
        import psycopg

        heard: set[str] = set()
        try:
            heard.update(n.payload for n in self._listener.notifies(timeout=timeout, stop_after=1))
            if heard:
                # Take what else arrived meanwhile (after the first generator has let go of
                # the connection's lock): one pass serves them all.
                heard.update(n.payload for n in self._listener.notifies(timeout=0))
        except psycopg.Error as exc:
            logger.warning("The wake-up connection failed (%s); reconnecting.", exc)
            self.close()
            time.sleep(min(timeout, POLL_SECONDS))
            self._listen()
            return DUE  # a notification may have been lost: run a pass
        if not heard:
            return ""
        return LATER if heard == {LATER} else DUE

    # -- other backends: poll a marker -------------------------------------------

    def _due_marker(self) -> tuple:
        found = self.due_queryset().filter(next_run__lte=timezone.now())
        return tuple(found.aggregate(n=Count("pk"), s=Sum("pk")).values())

    def _changed(self) -> bool:
        try:
            marker = self._due_marker()
        except DatabaseError:
            return True  # let the pass report it and retry
        changed = marker != self._marker and bool(marker[0])
        self._marker = marker
        return changed

    def _next_slot_or(self, latest: float) -> float:
        """The monotonic time of the earliest next_run ahead, if before ``latest``."""
        try:
            now = timezone.now()
            nearest = (
                self.due_queryset().filter(next_run__gt=now).aggregate(at=Min("next_run"))["at"]
            )
        except DatabaseError:
            return latest
        if nearest is None:
            return latest
        return min(latest, time.monotonic() + (nearest - now).total_seconds())

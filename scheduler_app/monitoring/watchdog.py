"""The missed-run watchdog: is a scheduler passing, and has every due task been run?

Two findings, both computed from the database with an injectable ``now``:

* **silent scheduler**: the newest heartbeat (one per pass) is older than
  ``SCHEDULER["WATCHDOG_SILENCE"]`` seconds. Before the very first pass the
  scheduler only counts as silent once a task has been due that long.
* **overdue tasks**: enabled, pending tasks whose next run is more than their
  grace in the past (the task's misfire grace when set, else
  ``SCHEDULER["OVERDUE_GRACE"]``; never under :data:`MIN_GRACE`).

Read by the admin dashboard, the ``scheduler_app.W020``/``W021`` checks,
``runscheduler --check``, the health endpoint and the alerts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduler_app import conf
from scheduler_app.models import ScheduledTask, SchedulerHeartbeat, TaskStatus
from scheduler_app.schedules.timestamps import format_when

#: A scheduler run from cron passes once a minute: a task is never overdue sooner.
MIN_GRACE = 60
#: Most overdue tasks listed (the list says when there are more).
OVERDUE_LIMIT = 20
_OVERDUE_FIELDS = (
    "pk",
    "name",
    "module_id",
    "task_type",
    "timezone",
    "next_run",
    "misfire_grace",
    "owner_id",
)


@dataclass(frozen=True)
class LastPass:
    host: str
    pid: int
    finished_at: dt.datetime


@dataclass(frozen=True)
class OverdueTask:
    """A pending task that no scheduler ran in time."""

    task_id: int
    name: str
    module_id: str
    task_type: str
    timezone: str
    due_at: dt.datetime
    grace: int
    owner_id: int | None = None

    def late_by(self, now: dt.datetime) -> dt.timedelta:
        return now - self.due_at

    def describe(self, now: dt.datetime) -> str:
        """``“Export” (#12) should have run at Mon, 2026-06-01 02:00 CEST, still pending at
        Mon, 2026-06-01 02:17 CEST.`` — in the task's zone, in the one format of every page."""
        return _("“%(name)s” (#%(id)d) should have run at %(due)s, still pending at %(now)s.") % {
            "name": self.name,
            "id": self.task_id,
            "due": format_when(self.due_at, self.timezone),
            "now": format_when(now, self.timezone),
        }


@dataclass(frozen=True)
class WatchdogStatus:
    checked_at: dt.datetime
    silence_limit: float
    last_pass: LastPass | None
    silent: bool
    overdue: list[OverdueTask] = field(default_factory=list)
    more_overdue: bool = False
    waiting_since: dt.datetime | None = None  # no pass yet: the oldest due run

    @property
    def healthy(self) -> bool:
        return not self.silent and not self.overdue

    @property
    def silent_for(self) -> dt.timedelta | None:
        if self.last_pass is not None:
            return self.checked_at - self.last_pass.finished_at
        if self.waiting_since is not None:
            return self.checked_at - self.waiting_since
        return None

    @property
    def overdue_described(self) -> list[tuple[OverdueTask, str]]:
        """Each overdue task with its sentence (for templates)."""
        return [(item, item.describe(self.checked_at)) for item in self.overdue]

    def silence_line(self) -> str:
        if not self.silent:
            return ""
        limit = _duration(dt.timedelta(seconds=self.silence_limit))
        if self.last_pass is None:
            return _(
                "No scheduler pass has been recorded, and tasks have been due for %(for)s "
                "(expected a pass at least every %(limit)s). Is runscheduler running?"
            ) % {"for": _duration(self.silent_for or dt.timedelta()), "limit": limit}
        last = self.last_pass
        return _(
            "No scheduler pass for %(for)s (the last one ended %(at)s on %(host)s, pid "
            "%(pid)d); expected one at least every %(limit)s."
        ) % {
            "for": _duration(self.silent_for or dt.timedelta()),
            "at": format_when(last.finished_at),
            "host": last.host,
            "pid": last.pid,
            "limit": limit,
        }

    def overdue_line(self) -> str:
        if not self.overdue:
            return ""
        count = len(self.overdue)
        head = ngettext(
            "%(count)d%(plus)s task is overdue: %(first)s",
            "%(count)d%(plus)s tasks are overdue: %(first)s",
            count,
        ) % {
            "count": count,
            "plus": "+" if self.more_overdue else "",
            "first": self.overdue[0].describe(self.checked_at),
        }
        if count > 1:
            head += " " + ngettext("(and %(n)d more)", "(and %(n)d more)", count - 1) % {
                "n": count - 1
            }
        return head

    def lines(self) -> list[str]:
        """One readable line per finding; empty when healthy."""
        return [line for line in (self.silence_line(), self.overdue_line()) if line]

    def as_json(self, *, names: bool = True) -> dict[str, Any]:
        """The status for the health endpoint; ``names=False`` leaves out task names."""
        last = self.last_pass
        silent_for = self.silent_for
        overdue = []
        for item in self.overdue:
            row: dict[str, Any] = {
                "id": item.task_id,
                "module": item.module_id,
                "due_at": item.due_at.isoformat(),
                "late_seconds": int(item.late_by(self.checked_at).total_seconds()),
            }
            if names:
                row["name"] = item.name
            overdue.append(row)
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "checked_at": self.checked_at.isoformat(),
            "scheduler": {
                "silent": self.silent,
                "last_pass_at": last.finished_at.isoformat() if last else None,
                "last_pass_host": last.host if last and names else None,
                "seconds_since_last_pass": int(silent_for.total_seconds())
                if last and silent_for is not None
                else None,
                "expected_every_seconds": self.silence_limit,
            },
            "overdue": {"count": len(self.overdue), "more": self.more_overdue, "tasks": overdue},
            "problems": self.lines()
            if names
            else [
                line
                for line in (
                    _("The scheduler is silent.") if self.silent else "",
                    _("%(count)d task(s) overdue.") % {"count": len(self.overdue)}
                    if self.overdue
                    else "",
                )
                if line
            ],
        }


def _duration(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    if minutes < 120:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24}


def last_pass() -> LastPass | None:
    """The newest heartbeat (one index read)."""
    row = (
        SchedulerHeartbeat.objects.order_by("-finished_at")
        .values_list("host", "pid", "finished_at")
        .first()
    )
    return LastPass(*row) if row else None


def overdue_tasks(
    now: dt.datetime, tasks: QuerySet | None = None, *, limit: int = OVERDUE_LIMIT
) -> tuple[list[OverdueTask], bool]:
    """Overdue tasks among ``tasks`` (default: all), most overdue first, and whether there are more.

    One query on the due index; tasks with their own grace are filtered here.
    """
    settings = conf.get()
    default_grace = max(MIN_GRACE, int(settings.OVERDUE_GRACE))
    queryset = ScheduledTask.objects.all() if tasks is None else tasks
    candidates = (
        queryset.filter(status=TaskStatus.PENDING, enabled=True)
        .filter(
            Q(misfire_grace__isnull=True, next_run__lt=now - dt.timedelta(seconds=default_grace))
            | Q(misfire_grace__isnull=False, next_run__lt=now - dt.timedelta(seconds=MIN_GRACE))
        )
        .order_by("next_run", "pk")
        .values(*_OVERDUE_FIELDS)[: limit * 5 + 50]
    )
    found: list[OverdueTask] = []
    for row in candidates:
        own = row["misfire_grace"]
        grace = default_grace if own is None else max(MIN_GRACE, own)
        if row["next_run"] >= now - dt.timedelta(seconds=grace):
            continue
        found.append(
            OverdueTask(
                row["pk"],
                row["name"],
                row["module_id"],
                row["task_type"],
                row["timezone"],
                row["next_run"],
                grace,
                row["owner_id"],
            )
        )
    return found[:limit], len(found) > limit


def status(
    now: dt.datetime | None = None, *, tasks: QuerySet | None = None, limit: int = OVERDUE_LIMIT
) -> WatchdogStatus:
    """The watchdog's findings at ``now`` (default: the current time).

    ``tasks`` narrows the overdue list (e.g. to what a user may see); the
    silence of the scheduler is always judged over every pass.
    """
    now = now or timezone.now()
    limit_seconds = float(conf.get().WATCHDOG_SILENCE)
    last = last_pass()
    waiting_since = None
    if last is not None:
        silent = (now - last.finished_at).total_seconds() > limit_seconds
    else:
        oldest = (
            ScheduledTask.objects.filter(
                status=TaskStatus.PENDING, enabled=True, next_run__isnull=False
            )
            .order_by("next_run")
            .values_list("next_run", flat=True)
            .first()
        )
        silent = oldest is not None and (now - oldest).total_seconds() > limit_seconds
        waiting_since = oldest if silent else None
    overdue, more = overdue_tasks(now, tasks, limit=limit)
    return WatchdogStatus(now, limit_seconds, last, silent, overdue, more, waiting_since)

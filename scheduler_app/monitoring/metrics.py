"""Aggregate queries for the admin and dashboard: each a constant number of queries.

Nothing here loads a task's whole history: counts and averages are SQL
aggregates, and the 95th percentile is the nearest-rank value read with a
top-N ``ORDER BY … LIMIT 1 OFFSET k`` (SQLite and PostgreSQL alike), returning
one row.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, TaskStatus

#: The metric windows shown on a task page: (key, label, length).
WINDOWS: tuple[tuple[str, Any, dt.timedelta], ...] = (
    ("24h", _("Last 24 hours"), dt.timedelta(hours=24)),
    ("7d", _("Last 7 days"), dt.timedelta(days=7)),
    ("30d", _("Last 30 days"), dt.timedelta(days=30)),
)
#: Run statuses that count as a finished run (running/enqueued/skipped do not).
FINISHED = (
    RunStatus.SUCCESS,
    RunStatus.FAILED,
    RunStatus.TIMEOUT,
    RunStatus.ABANDONED,
    RunStatus.CANCELLED,
)
FAILED_RUNS = (RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.ABANDONED)


@dataclass(frozen=True)
class WindowMetrics:
    key: str
    label: str
    runs: int
    successes: int
    avg_duration: float | None
    p95_duration: float | None

    @property
    def success_rate(self) -> float | None:
        """Successes as a percentage of finished runs, or None without runs."""
        return 100.0 * self.successes / self.runs if self.runs else None


def percentile(
    logs: QuerySet, fraction: float = 0.95, field: str = "duration", count: int | None = None
) -> float | None:
    """The nearest-rank ``fraction`` percentile of ``field`` over ``logs``.

    The value of rank ``ceil(fraction * n)`` is read from the top, with
    ``ORDER BY field DESC LIMIT 1 OFFSET n - rank``: the database keeps only the
    top ``n - rank + 1`` values while it scans (a top-N sort), returns one row,
    and works alike on SQLite and PostgreSQL. ``count`` (non-null values) saves
    the counting query when the caller has it from an aggregate.
    """
    values = logs.filter(**{f"{field}__isnull": False})
    if count is None:
        count = values.count()
    if not count:
        return None
    rank = max(1, math.ceil(round(fraction * count, 9)))
    offset = count - rank
    return next(
        iter(values.order_by(f"-{field}").values_list(field, flat=True)[offset : offset + 1]), None
    )


def task_metrics(task: ScheduledTask | int, now: dt.datetime | None = None) -> list[WindowMetrics]:
    """Runs, success rate, average and p95 duration over each of :data:`WINDOWS`.

    At most four queries whatever the history holds: one aggregate for every
    window and one percentile per window with runs, each bounded by the
    (task, started_at) index.
    """
    now = now or timezone.now()
    task_id = task if isinstance(task, int) else task.pk
    longest = max(length for _k, _l, length in WINDOWS)
    logs = TaskExecutionLog.objects.filter(
        task_id=task_id, started_at__gte=now - longest, status__in=FINISHED
    )
    aggregates: dict[str, Any] = {}
    for key, _label, length in WINDOWS:
        since = Q(started_at__gte=now - length)
        aggregates[f"runs_{key}"] = Count("pk", filter=since)
        aggregates[f"ok_{key}"] = Count("pk", filter=since & Q(status=RunStatus.SUCCESS))
        aggregates[f"avg_{key}"] = Avg("duration", filter=since)
        aggregates[f"timed_{key}"] = Count("duration", filter=since)
    totals = logs.aggregate(**aggregates)
    result = []
    for key, label, length in WINDOWS:
        runs = totals[f"runs_{key}"] or 0
        timed = totals[f"timed_{key}"] or 0
        p95 = percentile(logs.filter(started_at__gte=now - length), count=timed) if timed else None
        result.append(
            WindowMetrics(
                key=key,
                label=str(label),
                runs=runs,
                successes=totals[f"ok_{key}"] or 0,
                avg_duration=totals[f"avg_{key}"],
                p95_duration=p95,
            )
        )
    return result


def status_counts(tasks: QuerySet) -> dict[str, int]:
    """Number of tasks per status (every status present, zero if none)."""
    counts = dict.fromkeys(TaskStatus.values, 0)
    for row in tasks.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def module_counts(tasks: QuerySet) -> dict[str, int]:
    """Number of tasks per module id (modules without tasks are left out)."""
    rows = tasks.order_by().values("module_id").annotate(n=Count("pk")).order_by("module_id")
    return {row["module_id"]: row["n"] for row in rows}


def failing_tasks(tasks: QuerySet, limit: int = 10) -> QuerySet:
    """Failed tasks and tasks whose last runs failed, longest failure streak first."""
    return (
        tasks.filter(Q(status=TaskStatus.FAILED) | Q(failure_streak__gt=0))
        .exclude(status=TaskStatus.CANCELLED)
        .select_related("owner")
        .order_by("-failure_streak", "-last_run", "pk")[:limit]
    )


def stale_q(now: dt.datetime, grace: dt.timedelta) -> Q:
    """Tasks the scheduler should have handled by now: overdue, or holding an expired lease."""
    overdue = Q(status=TaskStatus.PENDING, enabled=True, next_run__lt=now - grace)
    lost = Q(status=TaskStatus.RUNNING, lease_expires_at__lt=now)
    return overdue | lost


def stale_tasks(
    tasks: QuerySet,
    now: dt.datetime | None = None,
    grace: dt.timedelta = dt.timedelta(minutes=10),
    limit: int = 10,
) -> QuerySet:
    """Overdue tasks (no scheduler ran them) and tasks whose lease expired, oldest first."""
    now = now or timezone.now()
    return (
        tasks.filter(stale_q(now, grace)).select_related("owner").order_by("next_run", "pk")[:limit]
    )


def upcoming_tasks(tasks: QuerySet, now: dt.datetime | None = None, limit: int = 10) -> QuerySet:
    """The next enabled, pending runs (served by the due index)."""
    now = now or timezone.now()
    return (
        tasks.filter(status=TaskStatus.PENDING, enabled=True, next_run__gte=now)
        .select_related("owner")
        .order_by("next_run", "priority", "pk")[:limit]
    )


def _days(now: dt.datetime, days: int) -> list[dt.date]:
    today = timezone.localdate(now)
    return [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def daily_outcomes(
    logs: QuerySet,
    now: dt.datetime | None = None,
    days: int = 14,
) -> tuple[list[dt.date], dict[str, dict[dt.date, tuple[int, int]]]]:
    """Successes and failures per module and day over the last ``days`` days (one query).

    Returns the days and ``{module_id: {day: (successes, failures)}}``.
    """
    now = now or timezone.now()
    dates = _days(now, days)
    since = timezone.make_aware(dt.datetime.combine(dates[0], dt.time.min))
    rows = (
        logs.filter(started_at__gte=since, status__in=FINISHED)
        .annotate(day=TruncDate("started_at"))
        .values("task__module_id", "day")
        .annotate(
            ok=Count("pk", filter=Q(status=RunStatus.SUCCESS)),
            bad=Count("pk", filter=Q(status__in=FAILED_RUNS)),
        )
        .order_by()
    )
    per_module: dict[str, dict[dt.date, tuple[int, int]]] = {}
    for row in rows:
        per_module.setdefault(row["task__module_id"], {})[row["day"]] = (row["ok"], row["bad"])
    return dates, dict(sorted(per_module.items()))


def daily_durations(
    logs: QuerySet,
    now: dt.datetime | None = None,
    days: int = 14,
) -> tuple[list[dt.date], dict[dt.date, tuple[float, float]]]:
    """Average and longest run duration per day over the last ``days`` days (one query)."""
    now = now or timezone.now()
    dates = _days(now, days)
    since = timezone.make_aware(dt.datetime.combine(dates[0], dt.time.min))
    rows = (
        logs.filter(started_at__gte=since, duration__isnull=False)
        .annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(avg=Avg("duration"), longest=Max("duration"))
        .order_by()
    )
    return dates, {row["day"]: (row["avg"], row["longest"]) for row in rows}

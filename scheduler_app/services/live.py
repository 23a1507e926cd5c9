"""Live runs: a running run's progress, time left and output so far, as the policy allows.

The pages poll a small JSON endpoint built on these (``views/live.py``) and
the commands print the same. Reading only; the engine writes the progress
(``engine/progress.py``). Every text a run produced is scrubbed of the task's
secrets, as the API does.

Example::

    for run in live.running(user=request.user, now=timezone.now()):
        run.done, run.total, run.percent, run.seconds_left
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Avg

from scheduler_app import policy
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, sql
from scheduler_app.policy import scrubbing

#: Characters of captured output shown live (the run page shows all of it once it ended).
OUTPUT_TAIL = 4000
#: The runs a "running now" list shows at most.
RUNNING_LIMIT = 50
#: How far back the successful runs that predict a run's length go.
HISTORY_WINDOW = dt.timedelta(days=30)
OPEN = (RunStatus.RUNNING, RunStatus.ENQUEUED)
#: Columns a live view needs (not the traceback or the result).
FIELDS = (
    "pk",
    "task_id",
    "status",
    "started_at",
    "finished_at",
    "duration",
    "error_message",
    "output",
    "progress_done",
    "progress_total",
    "progress_message",
    "progress_at",
)


@dataclass(frozen=True)
class LiveRun:
    """One run as a live view shows it: progress, times, the tail of its output."""

    id: int
    task: ScheduledTask
    status: str
    running: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    elapsed: float
    done: int | None
    total: int | None
    percent: float | None
    message: str
    reported_at: dt.datetime | None
    seconds_left: float | None  # None: no estimate
    typical: float | None  # the task's average successful run, in seconds
    output_tail: str
    error: str


def seconds_left(elapsed: float, fraction: float | None, typical: float | None) -> float | None:
    """Time left of a run: from the task's typical duration, else from its own pace."""
    if typical is not None and typical > 0:
        if fraction is not None:
            return max(0.0, typical * (1 - fraction))
        return typical - elapsed if elapsed < typical else None
    if fraction is not None and fraction > 0:
        return elapsed * (1 - fraction) / fraction
    return None


def typical_durations(task_ids: Iterable[int], now: dt.datetime) -> dict[int, float]:
    """The average duration of each task's successful runs of the last 30 days (one query)."""
    ids = list(set(task_ids))
    if not ids:
        return {}
    rows = (
        TaskExecutionLog.objects.filter(
            task_id__in=ids,
            status=RunStatus.SUCCESS,
            duration__isnull=False,
            started_at__gte=now - HISTORY_WINDOW,
        )
        .values("task_id")
        .annotate(typical=Avg("duration"))
        .order_by()
    )
    return {row["task_id"]: row["typical"] for row in rows}


def describe(
    log: TaskExecutionLog, task: ScheduledTask, *, now: dt.datetime, typical: float | None
) -> LiveRun:
    """``log`` as a LiveRun; its texts scrubbed of ``task``'s secrets."""
    running = log.status in OPEN
    end = log.finished_at if log.finished_at is not None and not running else now
    elapsed = max(0.0, (end - log.started_at).total_seconds())
    done, total = log.progress_done, log.progress_total
    fraction = None
    if done is not None and total:
        fraction = min(1.0, done / total)
    elif not running and log.status == RunStatus.SUCCESS and done is not None:
        fraction = 1.0
    secrets = scrubbing.secret_values(task)
    return LiveRun(
        id=log.pk,
        task=task,
        status=log.status,
        running=running,
        started_at=log.started_at,
        finished_at=None if running else log.finished_at,
        elapsed=elapsed,
        done=done,
        total=total,
        percent=None if fraction is None else round(100 * fraction, 1),
        message=scrubbing.scrub(log.progress_message or "", secrets),
        reported_at=log.progress_at,
        seconds_left=seconds_left(elapsed, fraction, typical) if running else None,
        typical=typical,
        # Masked before the cut: a cut inside a secret would leave a piece of it unmasked.
        output_tail=scrubbing.scrub(log.output or "", secrets)[-OUTPUT_TAIL:],
        error=scrubbing.scrub(log.error_message or "", secrets)[:1000],
    )


def run(log_id: int, *, user: Any, now: dt.datetime) -> LiveRun | None:
    """One run of a task whose logs ``user`` may see; None otherwise (not revealed)."""
    log = (
        policy.viewable_logs(user, TaskExecutionLog.objects.select_related("task"))
        .filter(pk=log_id)
        .only(*FIELDS, "task")
        .first()
    )
    if log is None or not policy.can_view_logs(user, log.task):
        return None
    typical = typical_durations([log.task_id], now).get(log.task_id)
    return describe(log, log.task, now=now, typical=typical)


def task_runs(task: ScheduledTask, *, user: Any, now: dt.datetime) -> list[LiveRun]:
    """The open runs of ``task`` and its newest run, newest first; [] without log access."""
    if not policy.can_view_logs(user, task):
        return []
    logs = list(task.logs.filter(status__in=OPEN).newest_first().only(*FIELDS)[:RUNNING_LIMIT])
    newest = task.logs.newest_first().only(*FIELDS).first()
    if newest is not None and all(log.pk != newest.pk for log in logs):
        logs.append(newest)
    typical = typical_durations([task.pk], now).get(task.pk)
    return [describe(log, task, now=now, typical=typical) for log in logs]


def running(
    *, user: Any, now: dt.datetime, module: str | None = None, limit: int = RUNNING_LIMIT
) -> list[LiveRun]:
    """The runs going on now among the tasks ``user`` may see the logs of (module: only its)."""
    logs = policy.viewable_logs(user, TaskExecutionLog.objects.select_related("task")).filter(
        status__in=OPEN
    )
    if module:
        logs = logs.filter(task__module_id=module)
    found = list(logs.order_by("-started_at", "-pk")[: max(1, min(limit, RUNNING_LIMIT))])
    allowed = policy.allowed_actions_for(user, [log.task for log in found])
    found = [log for log in found if policy.VIEW_LOGS in allowed.get(log.task_id, ())]
    typical = typical_durations([log.task_id for log in found], now)
    return [describe(log, log.task, now=now, typical=typical.get(log.task_id)) for log in found]


def running_in(
    host: str,
    pid: int,
    *,
    now: dt.datetime,
    task_ids: Iterable[int] = (),
    reporting_only: bool = False,
) -> list[LiveRun]:
    """The runs one scheduler process (``host``, ``pid``) has going now; for its own command.

    ``reporting_only``: only those whose body has reported progress (a daemon's log lines
    show nothing else); with none, one query and no history is read.
    """
    ids = list(task_ids)
    if reporting_only:
        # Polled twice a second by every daemon: ask for ids first, in a statement written
        # out (a tenth of the cost of the full rows with their tasks through the ORM), the
        # rows only when some body reports progress; no queryset is built before that.
        reporting = _reporting_ids(host, pid, ids)
        if not reporting:
            return []
        logs = TaskExecutionLog.objects.filter(pk__in=reporting)
    else:
        logs = TaskExecutionLog.objects.filter(status__in=OPEN, host=host, pid=pid)
    if ids:
        logs = logs.filter(task_id__in=ids)
    found = list(logs.select_related("task").order_by("-started_at", "-pk")[:RUNNING_LIMIT])
    typical = typical_durations([log.task_id for log in found], now)
    return [describe(log, log.task, now=now, typical=typical.get(log.task_id)) for log in found]


def _reporting_ids(host: str, pid: int, task_ids: list[int]) -> list[int]:
    """Ids of the open runs of (``host``, ``pid``) that reported progress (of ``task_ids``)."""
    column = sql.columns(TaskExecutionLog, connection)
    statement = (
        f"SELECT {column['id']} FROM {sql.table(TaskExecutionLog, connection)} "
        f"WHERE {column['status']} IN ({sql.placeholders(OPEN)}) "
        f"AND {column['host']} = %s AND {column['pid']} = %s "
        f"AND {column['progress_done']} IS NOT NULL"
    )
    params: list[Any] = [*OPEN, host, pid]
    if task_ids:
        statement += f" AND {column['task']} IN ({sql.placeholders(task_ids)})"
        params += task_ids
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} LIMIT {RUNNING_LIMIT}", params)
        return [int(row[0]) for row in cursor.fetchall()]

"""Read tasks, their runs and history, and upcoming run times, as a user may."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from scheduler_app import policy, schedules, task_configs
from scheduler_app.models import (
    ScheduledTask,
)
from scheduler_app.services import audit
from scheduler_app.services.arguments import check_arguments
from scheduler_app.services.steps import (
    bounded_errors,
    denied,
    resolve_now,
)
from scheduler_app.services.validation import (
    build_schedule,
)


def get_task(pk: Any, *, user: Any) -> ScheduledTask:
    """The task ``pk`` if ``user`` may see it.

    Raises ScheduledTask.DoesNotExist otherwise, as for a missing task, so a
    view answers 404 and does not tell which tasks exist.
    """
    queryset: QuerySet[ScheduledTask] = ScheduledTask.objects.all()
    if user is not None:
        queryset = policy.viewable_queryset(user, queryset)
    try:
        return queryset.get(pk=pk)
    except (ValueError, TypeError):
        raise ScheduledTask.DoesNotExist(f"No task {pk!r}.") from None


def visible_config(task: ScheduledTask) -> dict[str, Any]:
    """The task's config fit to show (lists, exports, logs): secret fields masked."""
    return task_configs.masked_config(task)


def task_logs(task: ScheduledTask, *, user: Any) -> Any:
    """The task's execution logs, newest first, if ``user`` may see them."""
    if user is not None and not policy.can_view_logs(user, task):
        raise denied(_("You may not see the runs of this task."))
    return task.logs.newest_first()


def task_history(task: ScheduledTask, *, user: Any, limit: int = 100) -> list[audit.TimelineEntry]:
    """The task's history (audit events and runs, newest first), if ``user`` may see it."""
    if user is not None and not policy.can_view_history(user, task):
        raise denied(_("You may not see the history of this task."))
    return audit.timeline(task, limit=limit)


def _preview(
    task: ScheduledTask | None,
    count: Any,
    after: Any,
    schedule_type: Any,
    **arguments: Any,
) -> tuple[schedules.Schedule, dt.datetime, dt.datetime]:
    """The schedule to preview (a task's, or the arguments'), its anchor, and from when.

    Every argument is type- and size-checked first (:mod:`.arguments`).
    """
    bounds = {"count": count, "after": after}
    if task is None:
        bounds.update(schedule_type=schedule_type, **arguments)
    check_arguments(bounds)
    after = resolve_now(after)
    if task is not None:
        return task.schedule, task.run_at or task.created_at, after
    return build_schedule(schedule_type or "", **arguments, now=after), after, after


@bounded_errors
def next_runs(
    schedule_type: str | None = None,
    *,
    task: ScheduledTask | None = None,
    cron: str | None = None,
    run_at: dt.datetime | None = None,
    interval: Any = None,
    event: str | None = None,
    timezone: str | None = None,
    count: int = 5,
    after: dt.datetime | None = None,
) -> list[dt.datetime]:
    """The next ``count`` run times, in the schedule's zone (a task's, or the arguments')."""
    sched, anchor, after = _preview(
        task,
        count,
        after,
        schedule_type,
        cron=cron,
        run_at=run_at,
        interval=interval,
        event=event,
        timezone=timezone,
    )
    return sched.runs_after(after, count, anchor=anchor)


@bounded_errors
def next_runs_with_notes(
    schedule_type: str | None = None,
    *,
    task: ScheduledTask | None = None,
    cron: str | None = None,
    run_at: dt.datetime | None = None,
    interval: Any = None,
    event: str | None = None,
    timezone: str | None = None,
    count: int = 5,
    after: dt.datetime | None = None,
) -> list[schedules.PlannedRun]:
    """As :func:`next_runs`, each run with what the DST rule does to it (``.dst``, ``.note``)."""
    sched, anchor, after = _preview(
        task,
        count,
        after,
        schedule_type,
        cron=cron,
        run_at=run_at,
        interval=interval,
        event=event,
        timezone=timezone,
    )
    return schedules.planned_runs(sched, after, count, anchor=anchor)

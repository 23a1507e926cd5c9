"""Duplicate schedules and hot spots: tasks that do the same thing, or fire in the same minute.

A new task is a duplicate of an existing one the user can see when both run
the same task type of the same module, with the same (cleaned) config and
the same schedule. Cancelled tasks do not count: they never run again.
Callers ask :func:`find_duplicate` before :func:`scheduler_app.services.schedule`
and refuse unless the person confirmed (``allow_duplicate``); the HTTP API
answers 409 naming the task found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, Q, QuerySet, When
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _

from scheduler_app import policy, schedules, task_configs
from scheduler_app.models import ScheduledTask, TaskStatus
from scheduler_app.services.validation import build_schedule, resolve_task_type

#: Most candidate rows compared in Python (same module, type and schedule).
MAX_CANDIDATES = 200
#: Most tasks listed as firing in the same minute.
SAME_MINUTE_LIMIT = 20


class DuplicateTask(ValidationError):
    """Scheduling would repeat ``existing``; the message names it."""

    def __init__(self, existing: ScheduledTask) -> None:
        self.existing = existing
        super().__init__(
            _(
                "“%(name)s” (task %(id)s) already runs %(key)s with the same configuration "
                "and schedule. Confirm with allow_duplicate to schedule it anyway."
            )
            % {"name": existing.name, "id": existing.pk, "key": existing.key},
            code="duplicate",
        )


def _schedule_filter(schedule: schedules.Schedule) -> dict[str, Any]:
    """The columns two equal schedules share (a recurring anchor differs by creation time)."""
    used = [f.column for f in schedules.FIELDS if f.used_for(schedule.type)]
    if schedule.type == schedules.RECURRING:
        used.remove("run_at")
    columns = schedule.columns()
    return {column: columns[column] for column in used}


def find_duplicate(
    *,
    user: Any,
    module: str,
    task_type: str,
    config: dict[str, Any] | None,
    schedule_type: str,
    cron: str | None = None,
    run_at: dt.datetime | None = None,
    interval: Any = None,
    event: str | None = None,
    timezone: str | None = None,
    timezone_name: str | None = None,
    now: dt.datetime | None = None,
) -> ScheduledTask | None:
    """A task ``user`` can see that this schedule would repeat, or None.

    Arguments are those of ``services.schedule`` (``timezone_name`` is the
    older name of ``timezone``). Input the services would
    refuse finds nothing: the caller's ``schedule()`` reports it. At most two
    queries (the candidates, and the user's shared tasks inside them).
    """
    try:
        task_cls = resolve_task_type(module, task_type)
        sched = build_schedule(
            schedule_type,
            cron=cron,
            run_at=run_at,
            interval=interval,
            event=event,
            timezone=timezone or timezone_name,
            now=now or dj_timezone.now(),
        )
        wanted_config = task_configs.store_config(task_cls, config)
    except (ValidationError, TypeError, ValueError):
        return None
    candidates: QuerySet[ScheduledTask] = (
        ScheduledTask.objects.filter(module_id=module, task_type=task_type)
        .exclude(status=TaskStatus.CANCELLED)
        .filter(**_schedule_filter(sched))
        .order_by("pk")
    )
    if user is not None:
        candidates = policy.viewable_queryset(user, candidates)
    for task in candidates[:MAX_CANDIDATES]:
        # Both sides are cleaned JSON (the services store configs cleaned), so == is fair.
        if task.config == wanted_config:
            return task
    return None


def refuse_duplicate(*, user: Any, allow_duplicate: bool = False, **arguments: Any) -> None:
    """Raise :class:`DuplicateTask` when :func:`find_duplicate` finds one and it was not allowed."""
    if allow_duplicate:
        return
    existing = find_duplicate(user=user, **arguments)
    if existing is not None:
        raise DuplicateTask(existing)


def same_minute_queryset(task: ScheduledTask) -> QuerySet[ScheduledTask]:
    """Every other live task of ``task``'s module whose next run is in its minute (no policy)."""
    start = (task.next_run or dj_timezone.now()).replace(second=0, microsecond=0)
    return (
        ScheduledTask.objects.filter(
            module_id=task.module_id,
            enabled=True,
            next_run__gte=start,
            next_run__lt=start + dt.timedelta(minutes=1),
        )
        .exclude(pk=task.pk)
        .exclude(status__in=(TaskStatus.CANCELLED, TaskStatus.PAUSED))
    )


def same_minute(task: ScheduledTask, *, user: Any, limit: int = SAME_MINUTE_LIMIT) -> list[Any]:
    """Other tasks of ``task``'s module that ``user`` can see and whose next run is in its minute.

    One query; rows are ``(pk, name, next_run)``, by pk.
    """
    if task.next_run is None:
        return []
    others = same_minute_queryset(task)
    if user is not None:
        others = policy.viewable_queryset(user, others)
    return list(others.order_by("pk").values_list("pk", "name", "next_run")[:limit])


@dataclass(frozen=True)
class Overlaps:
    """What a schedule being saved would repeat or meet, as ``user`` may learn it.

    ``duplicates``: tasks of the same module, task type, config and schedule;
    ``same_minute``: other tasks of that type and config whose next run falls in
    the minute of the new schedule's first run (``first_run``). Both list only
    tasks the user may view; ``hidden`` counts the matching tasks they may not,
    which are never named.
    """

    duplicates: list[ScheduledTask] = field(default_factory=list)
    same_minute: list[ScheduledTask] = field(default_factory=list)
    hidden: int = 0
    first_run: dt.datetime | None = None
    #: More candidates than were compared: the lists and the count may be short.
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.duplicates or self.same_minute or self.hidden)


def schedule_overlaps(
    *,
    user: Any,
    module: str,
    task_type: str,
    config: dict[str, Any] | None,
    schedule: schedules.Schedule,
    exclude_pk: int | None = None,
    now: dt.datetime | None = None,
) -> Overlaps:
    """The tasks a new (or changed) schedule would repeat, or fire in the same minute as.

    ``schedule`` is a validated :class:`~scheduler_app.schedules.Schedule`;
    ``exclude_pk`` leaves out the task being edited. A config the task type refuses
    finds nothing (saving reports it). Two queries: the candidates, and which of
    them ``user`` may view.
    """
    try:
        wanted_config = task_configs.store_config(resolve_task_type(module, task_type), config)
    except (ValidationError, TypeError, ValueError):
        return Overlaps()
    first_run = schedule.first_run(now or dj_timezone.now())
    same_schedule = Q(**_schedule_filter(schedule))
    matching = same_schedule
    if first_run is not None:
        start = first_run.replace(second=0, microsecond=0)
        fires_then = Q(
            enabled=True, next_run__gte=start, next_run__lt=start + dt.timedelta(minutes=1)
        ) & ~Q(status=TaskStatus.PAUSED)
        matching |= fires_then
    candidates = (
        ScheduledTask.objects.filter(module_id=module, task_type=task_type)
        .exclude(status=TaskStatus.CANCELLED)
        .filter(matching)
        .annotate(repeats=Case(When(same_schedule, then=True), default=False))
        .order_by("pk")
    )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    rows = list(candidates[: MAX_CANDIDATES + 1])
    truncated = len(rows) > MAX_CANDIDATES
    # Both sides are cleaned JSON (the services store configs cleaned), so == is fair.
    found = [task for task in rows[:MAX_CANDIDATES] if task.config == wanted_config]
    if not found:
        return Overlaps(first_run=first_run, truncated=truncated)
    visible = {task.pk for task in found}
    if user is not None:
        visible = set(
            policy.viewable_queryset(
                user, ScheduledTask.objects.filter(pk__in=visible)
            ).values_list("pk", flat=True)
        )
    repeating = {task.pk for task in found if task.repeats}
    shown: list[ScheduledTask] = [task for task in found if task.pk in visible]
    return Overlaps(
        duplicates=[task for task in shown if task.pk in repeating],
        same_minute=[task for task in shown if task.pk not in repeating],
        hidden=len(found) - len(shown),
        first_run=first_run,
        truncated=truncated,
    )


@dataclass(frozen=True)
class SameMinute:
    """Other tasks firing in a task's minute: those ``user`` may view, and how many others."""

    tasks: list[ScheduledTask] = field(default_factory=list)  # by pk, at most the limit
    hidden: int = 0


def same_minute_overview(
    task: ScheduledTask, *, user: Any, limit: int = SAME_MINUTE_LIMIT
) -> SameMinute:
    """The other tasks of ``task``'s module whose next run is in its minute, for its page.

    Lists those ``user`` may view and counts the others without naming them. Two
    queries (the viewable rows, the count of all), three when more than ``limit`` are
    viewable; never more as rows grow.
    """
    if task.next_run is None:
        return SameMinute()
    everyone = same_minute_queryset(task)
    viewable = everyone if user is None else policy.viewable_queryset(user, everyone)
    shown = list(viewable.order_by("pk")[:limit])
    total = everyone.count()
    seen = len(shown) if len(shown) < limit else viewable.count()
    return SameMinute(tasks=shown, hidden=max(0, total - seen))

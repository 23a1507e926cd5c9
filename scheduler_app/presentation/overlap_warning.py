"""Duplicate schedules and same-minute tasks, as the scheduling form and the task pages show them.

The form's warning is not an error: it shows the tasks found (those the person
may view; the others only counted) and saves once they tick "schedule it
anyway". The module pages' form (:func:`check`) and the admin's change form
(:func:`check_change`) warn alike. A task page lists the other tasks that run in
its minute, alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from scheduler_app import schedules, services, task_configs
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import links

#: The checkbox a person ticks to save past the warning.
CONFIRM_FIELD = "confirm_overlaps"
#: Most tasks listed under each heading (the services bound the same-minute list alike).
LIMIT = 20
#: Schedule fields of the form whose change is worth a new look (an edit).
WATCHED_FIELDS = (
    "schedule_type",
    "cron",
    "run_at",
    "interval_every",
    "interval_unit",
    "event",
    "timezone",
)


@dataclass(frozen=True)
class Listed:
    """One task of the warning, with where the person opens it ("" if nowhere)."""

    task: ScheduledTask
    url: str


@dataclass(frozen=True)
class OverlapWarning:
    duplicates: list[Listed] = field(default_factory=list)
    same_minute: list[Listed] = field(default_factory=list)
    hidden: int = 0
    #: Tasks the person may view beyond the LIMIT listed under each heading.
    more: int = 0
    first_run: dt.datetime | None = None
    timezone: str = "UTC"


def confirmed(data: Any) -> bool:
    """Whether the posted form says "schedule it anyway"."""
    return data is not None and data.get(CONFIRM_FIELD) in ("1", "on", "true", "yes")


def check(form: Any) -> OverlapWarning | None:
    """The warning for a valid :class:`~scheduler_app.forms.TaskScheduleForm`, or None.

    An edit is looked at only when its schedule or its config changed. Three or
    four queries (candidates, their visibility, the links' permissions).
    """
    schedule = form.options.schedule
    if schedule is None:
        return None
    instance = form.instance
    config = form.config_value()
    if instance is not None:
        if not (set(WATCHED_FIELDS) & set(form.options.changed_data) or form.config.has_changed()):
            return None
        # An edit posts secrets back masked; the stored ones are what the task will keep.
        config = task_configs.merge_secrets(form.task_cls, instance.config, config)
    return warning_for(
        user=form.user,
        module=form.module_id,
        task_type=form.task_type,
        config=config,
        schedule=schedule,
        exclude_pk=instance.pk if instance is not None else None,
        now=form.options.now,
    )


def check_change(
    task: ScheduledTask, schedule: schedules.Schedule, *, user: Any
) -> OverlapWarning | None:
    """The warning for giving ``task`` (its stored config) the new ``schedule``, or None.

    For forms that change a task's schedule but not its config (the admin's).
    """
    return warning_for(
        user=user,
        module=task.module_id,
        task_type=task.task_type,
        config=task.config,
        schedule=schedule,
        exclude_pk=task.pk,
    )


def warning_for(
    *,
    user: Any,
    module: str,
    task_type: str,
    config: dict[str, Any] | None,
    schedule: schedules.Schedule,
    exclude_pk: int | None = None,
    now: dt.datetime | None = None,
) -> OverlapWarning | None:
    """The warning for a validated ``schedule`` of ``module.task_type`` with ``config``."""
    found = services.schedule_overlaps(
        user=user,
        module=module,
        task_type=task_type,
        config=config,
        schedule=schedule,
        exclude_pk=exclude_pk,
        now=now,
    )
    if not found:
        return None
    duplicates, same_minute = found.duplicates[:LIMIT], found.same_minute[:LIMIT]
    urls = links.task_urls([*duplicates, *same_minute], user)
    return OverlapWarning(
        duplicates=[Listed(t, urls[t.pk]) for t in duplicates],
        same_minute=[Listed(t, urls[t.pk]) for t in same_minute],
        hidden=found.hidden,
        more=len(found.duplicates) + len(found.same_minute) - len(duplicates) - len(same_minute),
        first_run=found.first_run,
        timezone=schedule.timezone,
    )


@dataclass(frozen=True)
class SameMinuteListing:
    """A task page's list of the other tasks running in its minute."""

    items: list[Listed] = field(default_factory=list)
    hidden: int = 0

    def __bool__(self) -> bool:
        return bool(self.items or self.hidden)


def same_minute_listing(task: ScheduledTask, user: Any) -> SameMinuteListing:
    """The other tasks of ``task``'s module firing in its minute, as ``user`` may learn them.

    Three or four queries, whatever the number of tasks (see
    :func:`scheduler_app.services.same_minute_overview`, plus the links' permissions).
    """
    found = services.same_minute_overview(task, user=user, limit=LIMIT)
    urls = links.task_urls(found.tasks, user) if found.tasks else {}
    return SameMinuteListing([Listed(t, urls[t.pk]) for t in found.tasks], found.hidden)

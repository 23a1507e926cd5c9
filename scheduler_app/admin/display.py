"""Small renderers shared by the admin pages: badges, labelled times, durations."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from scheduler_app import humanize, schedules
from scheduler_app.models import RunStatus, ScheduledTask, TaskStatus

LABELS = {**dict(RunStatus.choices), **dict(TaskStatus.choices)}


def badge(status: str) -> SafeString:
    """A coloured label for a task or run status."""
    if not status:
        return format_html('<span class="sched-muted">{}</span>', _("never run"))
    return format_html(
        '<span class="sched-badge sched-badge-{}">{}</span>', status, LABELS.get(status, status)
    )


def when(value: dt.datetime | None, zone: Any = None) -> SafeString:
    """A time in the app's one format, in ``zone`` (a task, a zone name or None: the current
    zone), labelled; the zone's full name is its title."""
    if value is None:
        return format_html('<span class="sched-muted">{}</span>', "—")
    # "Mon, 2026-06-01" and "14:00 CEST" each stay on one line when a narrow column wraps.
    day, clock, label = humanize.format_when(value, zone).rsplit(" ", 2)
    return format_html(
        '<time datetime="{}" title="{}"><span class="sched-nowrap">{}</span> '
        '<span class="sched-nowrap">{} {}</span></time>',
        value.isoformat(),
        humanize.zone_name(zone),
        day,
        clock,
        label,
    )


def when_with_relative(
    value: dt.datetime | None, zone: Any = None, now: dt.datetime | None = None
) -> SafeString:
    """The labelled time (see :func:`when`) and, below it, how far away it is."""
    if value is None:
        return when(None)
    return format_html(
        '{}<br><span class="sched-muted">{}</span>',
        when(value, zone),
        humanize.relative(value, now),
    )


def duration(seconds: float | None) -> str:
    """1.23 s, 4 min 5 s, 2 h 3 min."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("%(s).2f s") % {"s": seconds}
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


@lru_cache(maxsize=2048)
def _describe(schedule: schedules.Schedule, language: str | None) -> str:
    return schedule.describe()


def describe_schedule(task: ScheduledTask) -> str:
    """The task's schedule in words; cached, as a list shows the same few schedules many times."""
    try:
        return _describe(task.schedule, translation.get_language())
    except Exception:  # noqa: BLE001 - a broken row still renders
        return task.describe_schedule()


def described(rows: list[tuple[str, Any]]) -> SafeString:
    """(label, value) rows as a table; a list value is a list (see SchedulableTask.describe_*)."""
    return format_html(
        '<table class="sched-config">{}</table>',
        format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            (
                (
                    label,
                    format_html(
                        "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in value))
                    )
                    if isinstance(value, list)
                    else value,
                )
                for label, value in rows
            ),
        ),
    )


def task_type_of(task: ScheduledTask) -> Any:
    """An instance of the task's type (for its describe_* hooks), or None if not installed."""
    from scheduler_app.exceptions import NotRegistered
    from scheduler_app.registry import registry

    try:
        return registry.get_task_type(task.module_id, task.task_type)(key=task.task_type)
    except NotRegistered:
        return None

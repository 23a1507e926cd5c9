"""Small renderers shared by the edges (admin, views, template tags, commands): badges,
times, runs.

Every page, message and command that shows a time uses :func:`format_when`, in the
task's own zone where there is a task (the zone its schedule is read in), so the
same run reads the same everywhere. The schedule preview uses the same format.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from scheduler_app import schedules, services
from scheduler_app.models import RunStatus, ScheduledTask, TaskStatus
from scheduler_app.schedules.timestamps import format_when, zone_name

LABELS = {**dict(RunStatus.choices), **dict(TaskStatus.choices)}


def badge(status: str) -> SafeString:
    """A coloured label for a task or run status."""
    if not status:
        return format_html('<span class="sched-muted">{}</span>', _("never run"))
    return format_html(
        '<span class="sched-badge sched-badge-{}">{}</span>', status, LABELS.get(status, status)
    )


def relative(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """ "in 3 hours", "5 minutes ago", or "now" within a minute (blank for no time)."""
    if when is None:
        return ""
    now = now or timezone.now()
    if abs((when - now).total_seconds()) < 60:
        return _("now")
    if when >= now:
        return _("in %(delta)s") % {"delta": timeuntil(when, now, depth=1)}
    return _("%(delta)s ago") % {"delta": timesince(when, now, depth=1)}


def when(value: dt.datetime | None, zone: Any = None) -> SafeString:
    """A time in the app's one format, in ``zone`` (a task, a zone name or None: the current
    zone), labelled; the zone's full name is its title."""
    if value is None:
        return format_html('<span class="sched-muted">{}</span>', "—")
    # "Mon, 2026-06-01" and "14:00 CEST" each stay on one line when a narrow column wraps.
    day, clock, label = format_when(value, zone).rsplit(" ", 2)
    return format_html(
        '<time datetime="{}" title="{}"><span class="sched-nowrap">{}</span> '
        '<span class="sched-nowrap">{} {}</span></time>',
        value.isoformat(),
        zone_name(zone),
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
        relative(value, now),
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


def describe_runs(schedule: schedules.Schedule, now=None, count: int = 5) -> list[dict[str, str]]:
    """The next runs of ``schedule`` as JSON-ready rows, in the schedule's zone, with DST notes."""
    zone = schedule.zone
    arguments = schedule.arguments()
    runs = services.next_runs_with_notes(
        arguments.pop("schedule_type"), **arguments, count=count, after=now
    )
    rows = []
    for run in runs:
        rows.append(
            {
                "at": run.at.isoformat(),
                "text": format_when(run.at, zone),
                "dst": run.dst,
                "note": run.note,
            }
        )
    return rows


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

"""Small renderers shared by the edges (admin, views, template tags): badges, times, runs."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from scheduler_app import schedules, services
from scheduler_app.models import RunStatus, ScheduledTask, TaskStatus

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


def when_with_relative(when: dt.datetime | None, now: dt.datetime | None = None) -> SafeString:
    """The local time and, below it, how far away it is."""
    if when is None:
        return format_html('<span class="sched-muted">{}</span>', "—")
    return format_html(
        '{}<br><span class="sched-muted">{}</span>',
        date_format(timezone.localtime(when), "SHORT_DATETIME_FORMAT"),
        relative(when, now),
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
    runs = services.next_runs_with_notes(
        schedule.type,
        cron=schedule.cron,
        run_at=schedule.run_at,
        interval=(schedule.interval_every, schedule.interval_unit)
        if schedule.interval_every
        else None,
        event=schedule.event,
        timezone=schedule.timezone,
        count=count,
        after=now,
    )
    rows = []
    for run in runs:
        local = run.at.astimezone(zone)
        rows.append(
            {
                "at": run.at.isoformat(),
                "text": date_format(local, "D, Y-m-d H:i") + " " + (local.tzname() or ""),
                "dst": run.dst,
                "note": run.note,
            }
        )
    return rows

"""Blackout calendars: periods in which a task's runs are skipped.

A period is whole days (``start_date`` to ``end_date``, inclusive), optionally
cut by a start and an end time, read as wall-clock time in the calendar's zone
or, when the calendar has none, in the zone of each task it blocks (a public
holiday is a local date wherever the task runs).

The scheduler asks :func:`blocked_slots` for every claimed batch (a slot filter
of ``engine.hooks``): a blacked-out occurrence is logged as ``skipped`` with
the calendar's name and the task moves to its next slot. Previews ask
:func:`blackout_notes`.

Example::

    calendar = calendars.create_calendar(user=admin, name="Holidays DE", timezone="Europe/Berlin")
    calendars.import_ics(calendar, uploaded.read(), user=admin)
    services.update(task, user=admin, calendars=[calendar])
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import BlackoutCalendar, BlackoutPeriod, ScheduledTask, sql
from scheduler_app.services.periods import (  # re-exported: callers say calendars.Period
    Period,
    check_periods,
    check_zone,
)

#: Longest calendar name and description (the name is the model's column).
MAX_NAME_LENGTH = 120
MAX_DESCRIPTION_LENGTH = 2000


def _period_of(row: BlackoutPeriod) -> Period:
    return Period(row.start_date, row.end_date, row.start_time, row.end_time, row.label)


# --- use cases ---------------------------------------------------------------


def _check_may_manage(user: Any) -> None:
    if user is not None and not policy.can_manage_calendars(user):
        raise PermissionDenied(_("You may not change blackout calendars."))


def create_calendar(
    *,
    user: Any,
    name: str,
    description: str = "",
    timezone: str = "",
    periods: Iterable[Period] = (),
) -> BlackoutCalendar:
    """Create a calendar with its periods; nothing is saved on error."""
    _check_may_manage(user)
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": _("Name the calendar.")}, code="required")
    if not isinstance(description, str):
        raise ValidationError({"description": _("Describe the calendar in text.")}, code="invalid")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            {"name": _("Keep the name under %(max)d characters.") % {"max": MAX_NAME_LENGTH}},
            code="max_length",
        )
    if len(description or "") > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            {
                "description": _("Keep the description under %(max)d characters.")
                % {"max": MAX_DESCRIPTION_LENGTH}
            },
            code="max_length",
        )
    if BlackoutCalendar.objects.filter(name=name).exists():
        raise ValidationError(
            {"name": _("A calendar named “%(name)s” exists already.") % {"name": name}},
            code="unique",
        )
    zone = check_zone(timezone)
    periods = list(periods)
    check_periods(periods)
    with transaction.atomic():
        calendar = BlackoutCalendar.objects.create(
            name=name, description=description, timezone=zone
        )
        _add(calendar, periods)
    return calendar


def _add(calendar: BlackoutCalendar, periods: list[Period]) -> None:
    BlackoutPeriod.objects.bulk_create(
        [
            BlackoutPeriod(
                calendar=calendar,
                label=p.label[:200],
                start_date=p.start_date,
                end_date=p.end_date,
                start_time=p.start_time,
                end_time=p.end_time,
            )
            for p in periods
        ]
    )


def add_periods(
    calendar: BlackoutCalendar, periods: Iterable[Period], *, user: Any, replace: bool = False
) -> int:
    """Add periods to ``calendar`` (or replace all of its periods); returns how many were added.

    Raises ValidationError if a period is reversed or overlaps another one.
    """
    _check_may_manage(user)
    periods = list(periods)
    existing = [] if replace else [_period_of(p) for p in calendar.periods.all()]
    check_periods([*existing, *periods])
    with transaction.atomic():
        if replace:
            calendar.periods.all().delete()
        _add(calendar, periods)
        calendar.save(update_fields=["updated_at"])
    return len(periods)


def import_ics(
    calendar: BlackoutCalendar, data: bytes | str, *, user: Any, replace: bool = False
) -> int:
    """Add the events of an iCalendar file as periods; returns how many were added."""
    return add_periods(calendar, parse_ics(data), user=user, replace=replace)


# --- .ics --------------------------------------------------------------------


def parse_ics(data: bytes | str) -> list[Period]:
    """The VEVENTs of an iCalendar file as periods (see :func:`scheduler_app.services.ics.parse`)."""
    from scheduler_app.services import ics

    return ics.parse(data)


# --- asking whether a time is blacked out -----------------------------------


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _covering(
    periods: list[tuple[BlackoutCalendar, BlackoutPeriod]], when: dt.datetime, task_zone: str
) -> str | None:
    for calendar, period in periods:
        local = when.astimezone(_zone(calendar.timezone or task_zone)).replace(tzinfo=None)
        start, end = period.bounds
        if start <= local < end:
            label = f" ({period.label})" if period.label else ""
            return _("Blacked out by calendar “%(calendar)s”%(label)s") % {
                "calendar": calendar.name,
                "label": label,
            }
    return None


def _periods_of(
    task_ids: list[int],
    around: list[dt.datetime],
) -> dict[int, list[tuple[BlackoutCalendar, BlackoutPeriod]]]:
    """{task id: [(calendar, period), ...]} for periods near ``around`` (two queries)."""
    links = _links_of(task_ids)
    if not links:
        return {}
    # A day either side covers every zone's offset from UTC.
    low = min(around).date() - dt.timedelta(days=1)
    high = max(around).date() + dt.timedelta(days=1)
    by_calendar: dict[int, list[tuple[BlackoutCalendar, BlackoutPeriod]]] = defaultdict(list)
    for period in BlackoutPeriod.objects.filter(
        calendar_id__in={c for _t, c in links}, start_date__lte=high, end_date__gte=low
    ).select_related("calendar"):
        by_calendar[period.calendar_id].append((period.calendar, period))
    found: dict[int, list[tuple[BlackoutCalendar, BlackoutPeriod]]] = defaultdict(list)
    for task_id, calendar_id in links:
        found[task_id].extend(by_calendar.get(calendar_id, ()))
    return found


def _links_of(task_ids: list[int]) -> list[tuple[int, int]]:
    """(task id, calendar id) of each of ``task_ids``' calendars.

    Asked for every claimed batch (most tasks have no calendar): the statement is
    written out, a tenth of the cost of building it through the ORM each time.
    """
    through = ScheduledTask.calendars.through
    column = sql.columns(through, connection)
    task, calendar = column["scheduledtask"], column["blackoutcalendar"]
    links: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for chunk in sql.chunks(task_ids):
            cursor.execute(
                f"SELECT {task}, {calendar} FROM {sql.table(through, connection)} "
                f"WHERE {task} IN ({sql.placeholders(chunk)})",
                chunk,
            )
            links += [(int(t), int(c)) for t, c in cursor.fetchall()]
    return links


def blocked_slots(rows: list[dict], now: dt.datetime) -> dict[int, str]:
    """Slot filter: {task id: reason} for claimed occurrences inside a blackout period."""
    slots = {
        row["id"]: row["occurrence_at"] or row["next_run"]
        for row in rows
        if row.get("retry_count", 0) == 0
    }
    slots = {k: v for k, v in slots.items() if v is not None}
    if not slots:
        return {}
    periods = _periods_of(list(slots), list(slots.values()))
    zones = {row["id"]: row["timezone"] for row in rows}
    found: dict[int, str] = {}
    for task_id, task_periods in periods.items():
        reason = _covering(task_periods, slots[task_id], zones.get(task_id, "UTC"))
        if reason:
            found[task_id] = reason
    return found


def blackout_notes(task: ScheduledTask, runs: list[dt.datetime]) -> list[str | None]:
    """For each of ``runs`` of ``task``, why it will be skipped, or None (for previews)."""
    if not runs or task.pk is None:
        return [None] * len(runs)
    periods = _periods_of([task.pk], runs).get(task.pk, [])
    return [_covering(periods, run, task.timezone) if periods else None for run in runs]


def blackout_notes_for(
    planned: list[tuple[ScheduledTask, list[dt.datetime]]],
) -> dict[tuple[int, dt.datetime], str]:
    """{(task id, run): why it is skipped} for many tasks' runs at once (two queries)."""
    every_run = [run for _task, runs in planned for run in runs]
    if not every_run:
        return {}
    periods = _periods_of([task.pk for task, _runs in planned], every_run)
    found: dict[tuple[int, dt.datetime], str] = {}
    for task, runs in planned:
        for run in runs if periods.get(task.pk) else ():
            note = _covering(periods[task.pk], run, task.timezone)
            if note:
                found[(task.pk, run)] = note
    return found


def calendar_notes(
    calendar_ids: Iterable[int], runs: list[dt.datetime], task_zone: str
) -> list[str | None]:
    """Like :func:`blackout_notes` for a schedule not saved yet (the scheduling form's preview)."""
    ids = [int(pk) for pk in calendar_ids]
    if not runs or not ids:
        return [None] * len(runs)
    periods = [
        (p.calendar, p)
        for p in BlackoutPeriod.objects.filter(calendar_id__in=ids)
        .select_related("calendar")
        .filter(
            start_date__lte=max(runs).date() + dt.timedelta(days=1),
            end_date__gte=min(runs).date() - dt.timedelta(days=1),
        )
    ]
    return [_covering(periods, run, task_zone) if periods else None for run in runs]


def resolve(values: Iterable[Any] | None) -> list[BlackoutCalendar]:
    """Calendars given as instances, ids or names; ValidationError on ``calendars`` for unknown ones."""
    if values is not None and (
        isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable)
    ):
        raise ValidationError(
            {"calendars": _("Give the calendars as a list of names or ids.")}, code="invalid"
        )
    wanted = list(values or ())
    objects = [v for v in wanted if isinstance(v, BlackoutCalendar)]
    ids = [v for v in wanted if isinstance(v, int) and not isinstance(v, bool)]
    names = [v for v in wanted if isinstance(v, str)]
    if len(objects) + len(ids) + len(names) != len(wanted):
        raise ValidationError(
            {"calendars": _("Give the calendars as a list of names or ids.")}, code="invalid"
        )
    found = {c.pk: c for c in objects}
    if ids or names:
        from django.db.models import Q

        for calendar in BlackoutCalendar.objects.filter(Q(pk__in=ids) | Q(name__in=names)):
            found[calendar.pk] = calendar
    known_names = {c.name for c in found.values()}
    missing = [str(v) for v in ids if v not in found] + [v for v in names if v not in known_names]
    if missing:
        shown = [m if len(m) <= 60 else m[:60] + "…" for m in missing[:10]]
        raise ValidationError(
            {
                "calendars": _("No blackout calendar named %(names)s.")
                % {"names": ", ".join(f"“{m}”" for m in shown) + ("…" if len(missing) > 10 else "")}
            },
            code="unknown_calendar",
        )
    return sorted(found.values(), key=lambda c: c.name)

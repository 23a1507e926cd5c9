"""Recurring intervals: parsing, runs, descriptions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduler_app.schedules.wallclock import UTC, clip, field_error, resolve_wall_time

INTERVAL_UNITS = {
    "minutes": dt.timedelta(minutes=1),
    "hours": dt.timedelta(hours=1),
    "days": dt.timedelta(days=1),
    "weeks": dt.timedelta(weeks=1),
}


# Days and weeks keep their wall-clock time across DST; minutes and hours are
# elapsed time.
WALL_CLOCK_UNITS = {"days", "weeks"}


# Longest interval accepted; beyond it the date arithmetic would overflow soon.
MAX_INTERVAL = dt.timedelta(days=3660)


def parse_interval(value: object) -> tuple[int, str]:
    """Accept ``timedelta``, ``(n, unit)``, ``"n unit"`` or minutes as int."""
    every: object
    unit: object
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        if seconds <= 0 or seconds % 60:
            raise field_error(
                "interval",
                _("Give the interval as a positive number of whole minutes."),
                "invalid_interval",
            )
        for name in ("weeks", "days", "hours", "minutes"):
            size = INTERVAL_UNITS[name].total_seconds()
            if seconds % size == 0:
                return _bounded(int(seconds // size), name)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        every, unit = value
    elif isinstance(value, str):
        parts = value.split()
        if len(parts) != 2:
            raise _interval_error()
        every, unit = parts
    elif isinstance(value, int) and not isinstance(value, bool):
        every, unit = value, "minutes"
    else:
        raise _interval_error()
    unit = str(unit).strip().lower()
    if not unit.endswith("s"):
        unit += "s"
    if unit not in INTERVAL_UNITS:
        raise field_error(
            "interval",
            _("Unknown interval unit “%(unit)s”; use minutes, hours, days or weeks.")
            % {"unit": clip(unit)},
            "invalid_interval",
        )
    if isinstance(every, bool):
        raise _interval_error()
    try:
        number = int(str(every).strip())
    except ValueError:
        raise _interval_error() from None
    return _bounded(number, unit)


def _bounded(number: int, unit: str) -> tuple[int, str]:
    if number <= 0:
        raise field_error("interval", _("The interval must be at least 1."), "invalid_interval")
    if INTERVAL_UNITS[unit] * min(number, MAX_INTERVAL.days * 24 * 60 + 1) > MAX_INTERVAL:
        raise field_error(
            "interval",
            _("The interval must be at most %(days)d days.") % {"days": MAX_INTERVAL.days},
            "invalid_interval",
        )
    return number, unit


def _interval_error() -> ValidationError:
    return field_error(
        "interval",
        _("Give the interval as a positive number and a unit, e.g. “15 minutes”."),
        "invalid_interval",
    )


def interval_runs_after(
    every: int, unit: str, anchor: dt.datetime, tz: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """Runs at ``anchor + k * interval`` strictly after ``after``.

    A series ends where the calendar does (year 9999): fewer than ``count`` runs then.
    """
    runs: list[dt.datetime] = []
    try:
        _interval_runs(every, unit, anchor, tz, after, count, runs)
    except OverflowError:
        pass  # the next run would fall after year 9999: there is none
    return runs


def _interval_runs(
    every: int,
    unit: str,
    anchor: dt.datetime,
    tz: ZoneInfo,
    after: dt.datetime,
    count: int,
    runs: list[dt.datetime],
) -> None:
    step = INTERVAL_UNITS[unit] * every
    if unit in WALL_CLOCK_UNITS:
        local_anchor = anchor.astimezone(tz).replace(tzinfo=None)
        local_after = after.astimezone(tz).replace(tzinfo=None)
        k = max(0, (local_after - local_anchor) // step - 1)
        naive = local_anchor + step * k
        while len(runs) < count:
            instant = resolve_wall_time(naive, tz)
            if instant.astimezone(UTC) > after.astimezone(UTC):
                runs.append(instant)
            naive += step
        return
    anchor_utc = anchor.astimezone(UTC)
    after_utc = after.astimezone(UTC)
    k = 0 if after_utc < anchor_utc else (after_utc - anchor_utc) // step + 1
    current = anchor_utc + step * k
    while len(runs) < count:
        if current > after_utc:
            runs.append(current.astimezone(tz))
        current += step


def describe_interval(every: int, unit: str) -> str:
    """``Every 15 minutes``, ``Every hour``, ``Every 2 weeks``."""
    texts = {
        "minutes": ngettext("Every minute", "Every %(count)d minutes", every),
        "hours": ngettext("Every hour", "Every %(count)d hours", every),
        "days": ngettext("Every day", "Every %(count)d days", every),
        "weeks": ngettext("Every week", "Every %(count)d weeks", every),
    }
    return texts.get(unit, texts["minutes"]) % {"count": every}

"""The oracle of the cron differential test: cronsim, with the documented rule where it departs.

cronsim reads cron as Vixie/Debian cron does, including the DST split
(fixed-time jobs on the wall clock, the others in real time), so it is the
oracle. Where it departs from the documented rule (DESIGN.md, "Cron
semantics and DST") the rule is encoded here, in ``oracle_runs``:

* ``a-a/n`` is the single value a; cronsim reads it as ``a/n`` (a to the end).
* A minute or hour field with a ``*`` anywhere (``5,*/20``) is a wildcard
  field; cronsim looks at the first character only. The oracle gets the
  ``*`` item first, which leaves the values alone.
* A fixed-time job's runs are strictly after the start and distinct: cronsim
  returns the first valid minute after a gap once per time in the gap, and,
  started during the second pass through a repeated hour, a first occurrence
  that is already past.
* A real-time job runs on every real minute whose wall time matches. Around
  a change cronsim can miss such minutes: it moves to the next matching hour
  by whole hours from minute 0, so across Lord Howe's half-hour changes
  ``* */2 * * *`` on 5 April 2026 starts at 02:30, not 02:00; and started just
  before Chatham's autumn change, ``* 3 * * *`` goes back in time and never
  gets past it. Within three hours of a change the oracle checks every real
  minute against the fields as cronsim parsed them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from zoneinfo import ZoneInfo

from cronsim import CronSim

from scheduler_app.schedules import cron_runs_after

UTC = dt.UTC
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Europe/Dublin",
)
RUNS = 8
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAYS = "sun mon tue wed thu fri sat".split()


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@cache
def transitions(zone_name: str) -> tuple[dt.datetime, ...]:
    """The instants (UTC, to the minute) at which ``zone_name`` changes its offset in 2026-2028."""
    zone = ZoneInfo(zone_name)
    found = []
    hour = dt.timedelta(hours=1)
    at, end = utc(2026, 1, 1), utc(2029, 1, 1)
    offset = at.astimezone(zone).utcoffset()
    while at < end:
        following = at + hour
        if following.astimezone(zone).utcoffset() != offset:
            low, high = at, following  # the change lies in (low, high]: find its minute
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            found.append(high)
            offset = following.astimezone(zone).utcoffset()
        at = following
    return tuple(found)


ALL_CHANGES = tuple(sorted({t for name in ZONES for t in transitions(name)}))


# -- the oracle -------------------------------------------------------------------------

_STEPPED_RANGE = re.compile(r"^(\w+)-(\w+)/\d+$")


def _number(token: str) -> int:
    token = token.lower()
    if token in MONTHS:
        return MONTHS.index(token) + 1
    return DAYS.index(token) if token in DAYS else int(token)


def _single_value(item: str) -> str:
    """``a-a/n`` as ``a`` (names too: ``mon-1/2`` is 1), as the documented rule reads it."""
    match = _STEPPED_RANGE.match(item)
    if match and _number(match[1]) == _number(match[2]):
        return match[1]
    return item


def for_cronsim(expression: str) -> str:
    fields = expression.split(" ")
    for index, text in enumerate(fields):
        items = [_single_value(item) for item in text.split(",")]
        if index < 2:  # a "*" item first: cronsim then sees the wildcard field it is
            items.sort(key=lambda item: not item.startswith("*"))
        fields[index] = ",".join(items)
    return " ".join(fields)


def oracle_runs(expression: str, zone: ZoneInfo, after: dt.datetime, count: int) -> list:
    """The documented rule's next runs as UTC instants, strictly after ``after`` and distinct."""
    adapted = for_cronsim(expression)
    itr = CronSim(adapted, after.astimezone(zone))
    if itr.fixup_tz is None and transitions(zone.key):
        return _real_time_runs(adapted, itr, zone, after, count)
    runs: list[dt.datetime] = []
    last = after
    for _ in range(count * 100):  # a gap of an hour may repeat one run 60 times
        try:
            instant = next(itr).astimezone(UTC)
        except StopIteration:
            break
        if instant > last:
            runs.append(instant)
            last = instant
            if len(runs) == count:
                break
    return runs


def _real_time_runs(
    expression: str, sets: CronSim, zone: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """A real-time job: cronsim away from the zone's changes, every real minute near them.

    Within three hours of a change each real minute is checked against the
    fields as cronsim parsed them (its iteration there can miss minutes or loop).
    """
    minute = dt.timedelta(minutes=1)
    windows = [
        (change - dt.timedelta(hours=3), change + dt.timedelta(hours=3))
        for change in transitions(zone.key)
    ]
    runs: list[dt.datetime] = []
    position = after
    while len(runs) < count:
        window = next((w for w in windows if w[1] > position), None)
        if window is None or position < window[0]:
            try:
                instant = next(CronSim(expression, position.astimezone(zone))).astimezone(UTC)
            except StopIteration:
                break
            if window is None or instant < window[0]:
                runs.append(instant)
                position = instant
                continue
        start, end = window
        current = max(start, position.replace(second=0, microsecond=0) + minute)
        while current <= end and len(runs) < count:
            wall = current.astimezone(zone)
            if (
                wall.minute in sets.minutes
                and wall.hour in sets.hours
                and wall.month in sets.months
                and sets.match_day(wall.date())
            ):
                runs.append(current)
            current += minute
        position = end
    return runs


def product_runs(expression: str, zone: ZoneInfo, after: dt.datetime, count: int) -> list:
    return [run.astimezone(UTC) for run in cron_runs_after(expression, zone, after, count)]


def describe(runs: list[dt.datetime], zone: ZoneInfo) -> list[str]:
    return [r.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for r in runs]

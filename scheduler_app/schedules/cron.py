"""Cron schedules: validation, and the next runs in the task's zone by the DST rule.

DST, as Vixie cron and cronsim do it (DESIGN.md, "Cron semantics and DST"):

* a fixed-time job (no ``*`` in the minute and hour fields, e.g. ``30 2 * * *``)
  follows the wall clock: a time that does not exist runs at the first valid
  minute after the gap, and a time that occurs twice runs once, on its first
  occurrence. People who ask for 02:30 want one run a day, whatever the clocks do.
* every other job (``* * * * *``, ``*/15 * * * *``, ``0 * * * *``) follows real
  time: it runs at every real minute whose wall time matches, so through a
  repeated hour it keeps running (twice over that wall hour), and times that do
  not exist are skipped. An every-minute job must not pause for an hour in
  autumn, nor run sixty times at once in spring.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from scheduler_app.schedules.cronspec import (
    CRON_MACROS,
    MAX_CRON_LENGTH,
    CronSpec,
    compile_cron,
)
from scheduler_app.schedules.wallclock import (
    MINUTE,
    UTC,
    gap_bounds,
    is_ambiguous,
    is_nonexistent,
    is_plain_day,
    repeat_bounds,
)

ONE_DAY = dt.timedelta(days=1)


# Look this many years ahead for a next run before giving up. compile_cron refuses
# what never matches; the rarest that does (29 February on a given weekday)
# comes back within 40 years.
HORIZON_YEARS = 60


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def normalize_cron(expression: str | None) -> str:
    """Return a validated 5-field cron expression (whitespace collapsed, macros expanded)."""
    return compile_cron(expression).text


def cron_matches(expression: str, wall: dt.datetime) -> bool:
    """Whether the wall time ``wall`` (its minute) is one the expression names."""
    spec = compile_cron(expression)
    return (
        wall.month in spec.months
        and spec.matches_day(wall.day, wall.toordinal() % 7)
        and wall.hour in spec.hours
        and wall.minute in spec.minutes
    )


def _days_in(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month]


def next_wall_time(spec: CronSpec, after: dt.datetime) -> dt.datetime | None:
    """The first whole-minute wall time strictly after the naive ``after`` that ``spec`` names.

    Field by field, with a carry: a month that is not allowed jumps to the
    next allowed one, a day that does not match to the next candidate day, and
    within a day the hour and minute come from the sorted allowed values.
    """
    months, days, hours, minutes = spec.months, spec.days, spec.hours, spec.minutes
    day = after.date()
    hour, minute = after.hour, after.minute + 1
    limit = day.year + HORIZON_YEARS
    while day.year <= limit:
        month = day.month
        if month not in months:
            index = bisect_right(months, month)
            if index < len(months):
                day = dt.date(day.year, months[index], 1)
            else:
                day = dt.date(day.year + 1, months[0], 1)
            hour = minute = 0
            continue
        if not spec.matches_day(day.day, day.toordinal() % 7):  # ordinal 1 is a Monday
            if spec.days_and:
                # Both fields must match: go straight to the next allowed day of the month.
                index = bisect_right(days, day.day)
                if index < len(days) and days[index] <= _days_in(day.year, month):
                    day = day.replace(day=days[index])
                else:
                    day = (
                        dt.date(day.year + 1, 1, 1)
                        if month == 12
                        else dt.date(day.year, month + 1, 1)
                    )
            else:
                day += ONE_DAY
            hour = minute = 0
            continue
        index = bisect_left(hours, hour)
        if index < len(hours):
            at_hour = hours[index]
            if at_hour == hour:
                position = bisect_left(minutes, minute)
                if position < len(minutes):
                    return dt.datetime(day.year, month, day.day, at_hour, minutes[position])
                index += 1
            if index < len(hours):
                return dt.datetime(day.year, month, day.day, hours[index], minutes[0])
        day += ONE_DAY
        hour = minute = 0
    return None


@dataclass
class CronRun:
    """One run of a cron schedule, with what the DST rule did around it."""

    at: dt.datetime  # aware, in the schedule's zone (fold=1 for a second occurrence)
    moved_from: list[dt.datetime] = field(
        default_factory=list
    )  # naive times of a gap run at ``at``
    skipped: list[dt.datetime] = field(default_factory=list)  # naive times of a gap not run


def cron_runs_after(
    expression: str, tz: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """The next ``count`` runs strictly after ``after``, as aware times in ``tz``."""
    return [run.at for run in cron_plan(expression, tz, after, count)]


def cron_plan(expression: str, tz: ZoneInfo, after: dt.datetime, count: int) -> list[CronRun]:
    """As :func:`cron_runs_after`, each run with the gap times it replaces or follows."""
    spec = compile_cron(expression)
    runs: list[CronRun] = []
    if count <= 0:
        return runs
    last = after.astimezone(UTC)
    wall = last.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    cursor = wall - MINUTE
    if not is_plain_day(tz, wall.date()) and is_ambiguous(wall, tz):
        # Inside a repeated hour: its earlier wall times may still have a second occurrence ahead.
        cursor = repeat_bounds(wall, tz)[0] - MINUTE
    skipped: list[dt.datetime] = []
    while len(runs) < count:
        naive = next_wall_time(spec, cursor)
        if naive is None:
            break
        cursor = naive
        moved: list[dt.datetime] = []
        if is_plain_day(tz, naive.date()):
            candidates = [naive.replace(tzinfo=tz)]
        elif is_nonexistent(naive, tz):
            gap_end = gap_bounds(naive, tz)[1]
            if not spec.fixed_time:
                # Real time: a wall time that does not exist never comes; note and skip it.
                while naive is not None and naive < gap_end:
                    skipped.append(naive)
                    cursor, naive = naive, next_wall_time(spec, naive)
                continue
            moved = [naive]
            candidates = [gap_end.replace(tzinfo=tz)]
        elif is_ambiguous(naive, tz):
            if spec.fixed_time:
                candidates = [naive.replace(tzinfo=tz, fold=0)]
            else:
                # Real time: every matching wall time of the repeat runs twice, first all
                # of them before the clocks go back, then all of them after.
                repeat_end = repeat_bounds(naive, tz)[1]
                walls = [naive]
                following = next_wall_time(spec, naive)
                while following is not None and following < repeat_end:
                    walls.append(following)
                    following = next_wall_time(spec, following)
                cursor = walls[-1]
                candidates = [w.replace(tzinfo=tz, fold=0) for w in walls]
                candidates += [w.replace(tzinfo=tz, fold=1) for w in walls]
        else:
            candidates = [naive.replace(tzinfo=tz)]
        for at in candidates:
            instant = at.astimezone(UTC)
            if instant <= last:
                if moved and runs and instant == last:
                    runs[-1].moved_from.extend(moved)  # several gap times run once, at its end
                continue
            runs.append(CronRun(at, moved, skipped))
            skipped = []
            last = instant
            if len(runs) >= count:
                break
    return runs


def describe_cron(expression: str) -> str:
    """A human-readable description, e.g. ``At 06:00, Monday through Friday``."""
    from scheduler_app.schedules.crondescribe import describe_spec

    return describe_spec(compile_cron(expression))


__all__ = [
    "CRON_MACROS",
    "MAX_CRON_LENGTH",
    "CronRun",
    "cron_matches",
    "cron_plan",
    "cron_runs_after",
    "describe_cron",
    "next_wall_time",
    "normalize_cron",
]

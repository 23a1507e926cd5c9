"""Cron next runs against an independent engine (cronsim), around every DST change of 2026-2028.

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
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.schedules import cron_runs_after, normalize_cron

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


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@lru_cache(maxsize=None)
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


def test_the_zones_change_as_expected_in_2026_2028():
    counts = {name: len(transitions(name)) for name in ZONES}
    assert counts == {
        "UTC": 0,
        "Europe/Berlin": 6,
        "America/New_York": 6,
        "Australia/Lord_Howe": 6,
        "Asia/Kolkata": 0,
        "America/Sao_Paulo": 0,
        "Pacific/Chatham": 6,
        "Europe/Dublin": 6,
    }


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


def _for_cronsim(expression: str) -> str:
    fields = expression.split(" ")
    for index, text in enumerate(fields):
        items = [_single_value(item) for item in text.split(",")]
        if index < 2:  # a "*" item first: cronsim then sees the wildcard field it is
            items.sort(key=lambda item: not item.startswith("*"))
        fields[index] = ",".join(items)
    return " ".join(fields)


def oracle_runs(expression: str, zone: ZoneInfo, after: dt.datetime, count: int) -> list:
    """The documented rule's next runs as UTC instants, strictly after ``after`` and distinct."""
    adapted = _for_cronsim(expression)
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


# -- random expressions ---------------------------------------------------------------

BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAYS = "sun mon tue wed thu fri sat".split()


@st.composite
def value(draw, index: int) -> int:
    low, high = BOUNDS[index]
    if index == 1 and draw(st.booleans()):
        return draw(st.integers(0, 4))  # the hours DST changes touch, more often
    if index == 2 and draw(st.booleans()):
        return draw(st.integers(1, 28))
    return draw(st.integers(low, high))


def spelled(draw, index: int, number: int) -> str:
    if index == 3 and draw(st.integers(0, 4)) == 0:
        return MONTHS[number - 1]
    if index == 4 and number < 7 and draw(st.integers(0, 4)) == 0:
        return DAYS[number]
    return str(number)


@st.composite
def term(draw, index: int) -> str:
    low, high = BOUNDS[index]
    first = draw(value(index))
    kind = draw(st.sampled_from(["one", "one", "range", "same", "step", "start_step", "same_step"]))
    if kind == "one":
        return spelled(draw, index, first)
    step = draw(st.integers(1, max(1, (high - low) // 2)))
    if kind == "start_step":
        return f"{spelled(draw, index, first)}/{step}"
    if kind in ("same", "same_step"):
        text = f"{spelled(draw, index, first)}-{spelled(draw, index, first)}"
        return text if kind == "same" else f"{first}-{first}/{step}"
    last = draw(st.integers(first, high))
    text = f"{spelled(draw, index, first)}-{spelled(draw, index, last)}"
    return text if kind == "range" else f"{text}/{step}"


@st.composite
def field(draw, index: int) -> str:
    low, high = BOUNDS[index]
    kind = draw(st.sampled_from(["star", "star_step", "list", "list", "mixed"]))
    if kind == "star":
        return "*"
    star_step = f"*/{draw(st.integers(1, max(1, (high - low) // 2)))}"
    if kind == "star_step":
        return star_step
    items = draw(st.lists(term(index), min_size=1, max_size=3))
    if kind == "mixed" and index < 2:
        items.append(star_step)  # a wildcard that is not the first item
    return ",".join(items)


@st.composite
def expressions(draw) -> str:
    minute, hour, day, month, weekday = (draw(field(i)) for i in range(5))
    shape = draw(st.sampled_from(["days open", "days open", "day", "weekday", "both"]))
    if shape != "both":
        day = day if shape == "day" else "*"
        weekday = weekday if shape == "weekday" else "*"
    if draw(st.integers(0, 3)):
        month = "*"  # rare months make slow, uninteresting cases
    return f"{minute} {hour} {day} {month} {weekday}"


@st.composite
def zones_and_starts(draw) -> tuple[ZoneInfo, dt.datetime]:
    name = draw(st.sampled_from(ZONES))
    change = draw(st.sampled_from(transitions(name) or ALL_CHANGES))
    near = st.sampled_from([-1440, -121, -61, -60, -59, -31, -30, -1, 0, 1, 29, 30, 59, 60, 61])
    minutes = draw(st.one_of(near, st.integers(-2 * 1440, 2 * 1440)))
    seconds = draw(st.sampled_from([0, 0, 30, 59]))
    return ZoneInfo(name), change + dt.timedelta(minutes=minutes, seconds=seconds)


# A few thousand cases a run, the same ones every run (derandomized), in well under a minute.
@settings(
    max_examples=3000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(expression=expressions(), zone_start=zones_and_starts())
def test_next_runs_agree_with_cronsim_around_dst_changes(expression, zone_start):
    zone, after = zone_start
    try:
        normalize_cron(expression)
    except ValidationError:
        # Refused as never matching: cronsim refuses it too.
        with pytest.raises((CronSimError, StopIteration)):
            next(CronSim(_for_cronsim(expression), after.astimezone(zone)))
        return
    expected = oracle_runs(expression, zone, after, RUNS)
    found = product_runs(expression, zone, after, RUNS)
    assert describe(found, zone) == describe(expected, zone), (expression, zone.key, after)
    assert found == expected

"""Cron next runs against an independent engine (cronsim), around every DST change of 2026-2028.

The oracle and where it departs from cronsim to follow the documented rule
are in ``tests/cron_oracle.py``. The random cases (hypothesis, derandomized:
the same every run) cover the eight zones below at and around each of their
DST changes; the targeted cases spell the rule out.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.schedules import normalize_cron
from tests.cron_oracle import (
    ALL_CHANGES,
    DAYS,
    MONTHS,
    RUNS,
    ZONES,
    describe,
    for_cronsim,
    oracle_runs,
    product_runs,
    transitions,
    utc,
)


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


# -- random expressions ---------------------------------------------------------------
# The strategies are built once: hypothesis spends its time drawing, not validating.

BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
VALUES = [
    st.integers(0, 59),
    st.one_of(st.integers(0, 4), st.integers(0, 23)),  # the hours DST changes touch, often
    st.one_of(st.integers(1, 28), st.integers(1, 31)),
    st.integers(1, 12),
    st.integers(0, 7),
]
SPANS = [st.integers(0, high - low) for low, high in BOUNDS]
STEPS = [st.integers(1, max(1, (high - low) // 2)) for low, high in BOUNDS]
SPELL_AS_NAME = st.integers(0, 4)
TERM_KINDS = st.sampled_from(["one", "one", "range", "same", "step", "start_step", "same_step"])
# Hypothesis draws the first choice most often: lists, then the wildcard forms.
FIELD_KINDS = st.sampled_from(["list", "star", "star_step", "list", "mixed"])
DAY_SHAPES = st.sampled_from(["days open", "days open", "day", "weekday", "both"])
SOME_MONTH = st.integers(0, 3)


def spelled(draw, index: int, number: int) -> str:
    if index == 3 and draw(SPELL_AS_NAME) == 0:
        return MONTHS[number - 1]
    if index == 4 and number < 7 and draw(SPELL_AS_NAME) == 0:
        return DAYS[number]
    return str(number)


@st.composite
def term(draw, index: int) -> str:
    first = draw(VALUES[index])
    kind = draw(TERM_KINDS)
    if kind == "one":
        return spelled(draw, index, first)
    step = draw(STEPS[index])
    if kind == "start_step":
        return f"{spelled(draw, index, first)}/{step}"
    if kind in ("same", "same_step"):
        text = f"{spelled(draw, index, first)}-{spelled(draw, index, first)}"
        return text if kind == "same" else f"{first}-{first}/{step}"
    last = min(BOUNDS[index][1], first + draw(SPANS[index]))
    text = f"{spelled(draw, index, first)}-{spelled(draw, index, last)}"
    return text if kind == "range" else f"{text}/{step}"


TERM_LISTS = [st.lists(term(index), min_size=1, max_size=3) for index in range(5)]


@st.composite
def field(draw, index: int) -> str:
    kind = draw(FIELD_KINDS)
    if kind == "star":
        return "*"
    star_step = f"*/{draw(STEPS[index])}"
    if kind == "star_step":
        return star_step
    items = draw(TERM_LISTS[index])
    if kind == "mixed" and index < 2:
        items.append(star_step)  # a wildcard that is not the first item
    return ",".join(items)


FIELDS = [field(index) for index in range(5)]


@st.composite
def expressions(draw) -> str:
    minute, hour, day, month, weekday = (draw(strategy) for strategy in FIELDS)
    shape = draw(DAY_SHAPES)
    if shape != "both":
        day = day if shape == "day" else "*"
        weekday = weekday if shape == "weekday" else "*"
    if draw(SOME_MONTH):
        month = "*"  # rare months make slow, uninteresting cases
    return f"{minute} {hour} {day} {month} {weekday}"


ZONE_NAMES = st.sampled_from(sorted(ZONES, key=lambda name: not transitions(name)))
CHANGES = {name: st.sampled_from(transitions(name) or ALL_CHANGES) for name in ZONES}
MINUTES_AWAY = st.one_of(
    st.sampled_from([-1440, -121, -61, -60, -59, -31, -30, -1, 0, 1, 29, 30, 59, 60, 61]),
    st.integers(-2 * 1440, 2 * 1440),
)
SECONDS = st.sampled_from([0, 0, 30, 59])


@st.composite
def zones_and_starts(draw) -> tuple[ZoneInfo, dt.datetime]:
    name = draw(ZONE_NAMES)
    change = draw(CHANGES[name])
    offset = dt.timedelta(minutes=draw(MINUTES_AWAY), seconds=draw(SECONDS))
    return ZoneInfo(name), change + offset


# A few thousand cases a run, the same ones every run (derandomized), in well under a minute.
@settings(
    max_examples=4000,
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
            next(CronSim(for_cronsim(expression), after.astimezone(zone)))
        return
    expected = oracle_runs(expression, zone, after, RUNS)
    found = product_runs(expression, zone, after, RUNS)
    assert describe(found, zone) == describe(expected, zone), (expression, zone.key, after)
    assert found == expected


# -- targeted cases: the rule spelled out, and the oracle agreeing -----------------------


def runs_in(expression: str, zone_name: str, after: dt.datetime, count: int) -> list[str]:
    """Product runs as local wall times with offsets; the oracle must give the same."""
    zone = ZoneInfo(zone_name)
    found = product_runs(expression, zone, after, count)
    assert found == oracle_runs(expression, zone, after, count), (expression, zone_name, after)
    return [r.astimezone(zone).strftime("%Y-%m-%d %H:%M%z") for r in found]


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # Spring: 02:00 -> 03:00, 02:30 does not exist; it runs once, at 03:00.
        ("Europe/Berlin", utc(2026, 3, 28, 12), ["2026-03-29 03:00+0200", "2026-03-30 02:30+0200"]),
        (
            "America/New_York",
            utc(2026, 3, 7, 12),
            ["2026-03-08 03:00-0400", "2026-03-09 02:30-0400"],
        ),
        # Autumn in Berlin: 02:30 happens twice; it runs once, on the first.
        (
            "Europe/Berlin",
            utc(2026, 10, 24, 12),
            ["2026-10-25 02:30+0200", "2026-10-26 02:30+0100"],
        ),
        # Autumn in New York repeats 01:00-01:59: 02:30 happens once.
        (
            "America/New_York",
            utc(2026, 10, 31, 12),
            ["2026-11-01 02:30-0500", "2026-11-02 02:30-0500"],
        ),
    ],
)
def test_half_past_two_on_both_nights_in_berlin_and_new_york(zone, after, expected):
    assert runs_in("30 2 * * *", zone, after, 2) == expected


def test_half_past_one_on_new_yorks_autumn_night_runs_once_on_the_first_pass():
    after = utc(2026, 10, 31, 12)
    runs = runs_in("30 1 * * *", "America/New_York", after, 2)
    assert runs == ["2026-11-01 01:30-0400", "2026-11-02 01:30-0500"]
    # Asked again during the second pass through 01:xx, it does not run a second time.
    again = runs_in("30 1 * * *", "America/New_York", utc(2026, 11, 1, 6, 10), 1)
    assert again == ["2026-11-02 01:30-0500"]


DST_ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Europe/Dublin",
)


@pytest.mark.parametrize("zone_name", DST_ZONES)
@pytest.mark.parametrize(("expression", "step"), [("*/15 * * * *", 15), ("* * * * *", 1)])
def test_wildcard_jobs_never_pause_nor_bunch_up_across_any_change(zone_name, expression, step):
    zone = ZoneInfo(zone_name)
    for change in transitions(zone_name):
        after = change - dt.timedelta(hours=2)
        count = 4 * 60 // step
        runs = product_runs(expression, zone, after, count)
        assert runs == oracle_runs(expression, zone, after, count), (expression, change)
        gaps = {b - a for a, b in zip(runs, runs[1:], strict=False)}
        assert gaps == {dt.timedelta(minutes=step)}, (expression, zone_name, change)


def test_lord_howe_moves_by_half_an_hour():
    # 4 October 2026: 02:00 (+10:30) becomes 02:30 (+11); 02:00 and 02:15 do not exist.
    spring = utc(2026, 10, 3, 12)
    assert runs_in("0 2 * * *", "Australia/Lord_Howe", spring, 2) == [
        "2026-10-04 02:30+1100",
        "2026-10-05 02:00+1100",
    ]
    assert runs_in("15 2 * * *", "Australia/Lord_Howe", spring, 2) == [
        "2026-10-04 02:30+1100",
        "2026-10-05 02:15+1100",
    ]
    # 5 April 2026: 02:00 (+11) becomes 01:30 (+10:30); 01:30-01:59 happens twice, 02:xx once.
    autumn = utc(2026, 4, 4, 12)
    assert runs_in("0 2 * * *", "Australia/Lord_Howe", autumn, 2) == [
        "2026-04-05 02:00+1030",
        "2026-04-06 02:00+1030",
    ]
    assert runs_in("15 2 * * *", "Australia/Lord_Howe", autumn, 1) == ["2026-04-05 02:15+1030"]
    assert runs_in("45 1 * * *", "Australia/Lord_Howe", autumn, 2) == [
        "2026-04-05 01:45+1100",
        "2026-04-06 01:45+1030",
    ]
    assert runs_in("*/15 1 * * *", "Australia/Lord_Howe", utc(2026, 4, 4, 14, 20), 4) == [
        "2026-04-05 01:30+1100",
        "2026-04-05 01:45+1100",
        "2026-04-05 01:30+1030",
        "2026-04-05 01:45+1030",
    ]


def test_chatham_with_its_45_minute_offset():
    # 27 September 2026: 02:45 (+12:45) becomes 03:45 (+13:45).
    assert runs_in("0 3 * * *", "Pacific/Chatham", utc(2026, 9, 26), 2) == [
        "2026-09-27 03:45+1345",
        "2026-09-28 03:00+1345",
    ]
    assert runs_in("30 2 * * *", "Pacific/Chatham", utc(2026, 9, 26), 1) == [
        "2026-09-27 02:30+1245"
    ]
    # 5 April 2026: 03:45 (+13:45) becomes 02:45 (+12:45); 02:45-03:44 happens twice.
    assert runs_in("0 3 * * *", "Pacific/Chatham", utc(2026, 4, 4), 2) == [
        "2026-04-05 03:00+1345",
        "2026-04-06 03:00+1245",
    ]
    assert runs_in("*/30 * * * *", "Pacific/Chatham", utc(2026, 4, 4, 13, 40), 6) == [
        "2026-04-05 03:30+1345",
        "2026-04-05 03:00+1245",
        "2026-04-05 03:30+1245",
        "2026-04-05 04:00+1245",
        "2026-04-05 04:30+1245",
        "2026-04-05 05:00+1245",
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Pacific/Chatham"])
def test_the_29th_of_february_comes_in_leap_years(zone):
    offsets = [
        dt.datetime(year, 2, 29, tzinfo=ZoneInfo(zone)).strftime("%z") for year in (2028, 2032)
    ]
    assert runs_in("0 0 29 2 *", zone, utc(2026, 1, 1), 2) == [
        f"2028-02-29 00:00{offsets[0]}",
        f"2032-02-29 00:00{offsets[1]}",
    ]


def test_the_31st_runs_in_the_months_that_have_one():
    runs = runs_in("0 0 31 * *", "UTC", utc(2026, 1, 1), 7)
    assert [r[:10] for r in runs] == [
        "2026-01-31",
        "2026-03-31",
        "2026-05-31",
        "2026-07-31",
        "2026-08-31",
        "2026-10-31",
        "2026-12-31",
    ]


def test_sunday_is_0_and_7():
    sunday7 = runs_in("0 0 * * 7", "Europe/Dublin", utc(2026, 3, 1), 10)
    assert sunday7 == runs_in("0 0 * * 0", "Europe/Dublin", utc(2026, 3, 1), 10)
    assert sunday7 == runs_in("0 0 * * sun", "Europe/Dublin", utc(2026, 3, 1), 10)
    assert {dt.date.fromisoformat(r[:10]).isoweekday() for r in sunday7} == {7}


def test_both_day_fields_restricted_means_either_day():
    # Vixie cron: "0 0 13 * 5" runs on every 13th and on every Friday.
    runs = runs_in("0 0 13 * 5", "UTC", utc(2026, 1, 1), 6)
    assert [r[:10] for r in runs] == [
        "2026-01-02",  # Friday
        "2026-01-09",  # Friday
        "2026-01-13",  # Tuesday the 13th
        "2026-01-16",
        "2026-01-23",
        "2026-01-30",
    ]


def test_a_day_field_starting_with_a_star_means_both_days():
    # "*/6" starts with "*": Fridays that are also the 1st, 7th, 13th, 19th, 25th or 31st.
    runs = runs_in("45 8 */6 * 5", "UTC", utc(2026, 1, 1), 5)
    assert runs == [
        "2026-02-13 08:45+0000",
        "2026-03-13 08:45+0000",
        "2026-05-01 08:45+0000",
        "2026-06-19 08:45+0000",
        "2026-07-31 08:45+0000",
    ]


def test_a_range_of_one_value_is_that_value():
    assert runs_in("0 3-3 * * *", "Europe/Berlin", utc(2026, 6, 1), 3) == [
        "2026-06-01 03:00+0200",
        "2026-06-02 03:00+0200",
        "2026-06-03 03:00+0200",
    ]
    assert runs_in("0-0 0-0 1-1 1-1 *", "UTC", utc(2026, 6, 1), 2) == [
        "2027-01-01 00:00+0000",
        "2028-01-01 00:00+0000",
    ]
    assert runs_in("3-3/2 0 * * *", "UTC", utc(2026, 6, 1), 2) == [
        "2026-06-01 00:03+0000",
        "2026-06-02 00:03+0000",
    ]


def test_a_range_of_one_day_that_no_month_has_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        normalize_cron("0 0 31-31 2 *")
    assert "never matches" in excinfo.value.message_dict["cron"][0]

"""Schedule maths: every type, the DST rule, descriptions and input errors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_app import schedules
from scheduler_app.schedules import (
    Schedule,
    cron_matches,
    cron_runs_after,
    dst_note,
    interval_runs_after,
)
from scheduler_app.schedules.cronspec import compile_cron

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(runs: list[dt.datetime]) -> list[str]:
    """Runs as 'YYYY-MM-DD HH:MM+offset' wall times, easy to read in assertions."""
    return [r.strftime("%Y-%m-%d %H:%M%z") for r in runs]


def field_errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# -- cron -------------------------------------------------------------------------


def test_cron_runs_in_the_tasks_zone_and_returns_aware_local_times():
    runs = cron_runs_after("0 6 * * 1-5", BERLIN, utc(2026, 6, 5, 12), 3)  # a Friday
    assert local(runs) == [
        "2026-06-08 06:00+0200",
        "2026-06-09 06:00+0200",
        "2026-06-10 06:00+0200",
    ]
    assert [r.astimezone(UTC).hour for r in runs] == [4, 4, 4]


def test_cron_runs_are_strictly_after_the_given_instant():
    runs = cron_runs_after("0 12 * * *", UTC, utc(2026, 6, 1, 12), 1)
    assert runs == [utc(2026, 6, 2, 12)]
    runs = cron_runs_after("0 12 * * *", UTC, utc(2026, 6, 1, 11, 59, 59), 1)
    assert runs == [utc(2026, 6, 1, 12)]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
        ("  @hourly ", "0 * * * *"),
    ],
)
def test_cron_macros_expand_to_five_fields(macro, expected):
    assert schedules.normalize_cron(macro) == expected


def test_cron_whitespace_is_normalized():
    assert schedules.normalize_cron("  0   6 * *\t1-5 ") == "0 6 * * 1-5"


@pytest.mark.parametrize(
    "expression",
    [
        "*/15 * * * *",
        "0 6 * * MON-FRI",
        "0 0 1 JAN *",
        "0 0 * * 7",
        "5,35 8-18 * * *",
        "0 0 29 2 *",
        "0 3-3 * * *",
        "3-3/2 0 1-1 1-1 *",
        "5/10 * * * *",
        "0 0 * jan-mar,oct mon-fri",
        "0 0 * * SUN",
        "0 22-23,0-2 * * *",
        "0 0 31 2 1",  # both day fields restricted: every Monday of February
    ],
)
def test_valid_cron_expressions_are_accepted(expression):
    assert schedules.normalize_cron(expression) == expression


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("", "Enter a cron expression"),
        (None, "Enter a cron expression"),
        ("0 6 * *", "has 5 fields"),
        ("0 0 6 * * *", "has 6"),
        ("0 0 6 * * * 2030", "has 7"),
        ("@every", "Unknown cron macro"),
        ("@reboot", "Unknown cron macro"),
        ("61 * * * *", "61 is out of range for the minute field: use 0-59"),
        ("* 24 * * *", "24 is out of range for the hour field"),
        ("0 0 0 * *", "0 is out of range for the day of the month field"),
        ("0 0 * 13 *", "13 is out of range for the month field"),
        ("0 0 * * 8", "0-7 (0 and 7 are Sunday)"),
        ("*/0 * * * *", "The step in “*/0” must be between 1 and 60"),
        ("*/61 * * * *", "between 1 and 60"),
        ("a b c d e", "“a” is not a valid minute"),
        ("0 0 * jan-mon *", "“jan-mon” is not a valid month"),
        ("1,,2 * * * *", "empty item"),
        ("1- * * * *", "not a valid minute"),
        ("0 0 31 2 *", "never matches"),
        ("0 0 31-31 2 *", "never matches"),
        ("0 0 30,31 2 */2", "never matches"),
        ("0 0 31 4,6,9,11 *", "never matches"),
        ("5-1 * * * *", "runs backwards"),
        ("0 22-2 * * *", "write 22-23,0-2"),
        ("0 0 25-5 * *", "write 25-31,1-5"),
        ("0 0 * 11-2 *", "write 11-12,1-2"),
        ("0 0 * * fri-mon", "write 5-6,0-1"),
        ("0 0 * * sat-sun", "write 6,0"),
        ("0 0 L * *", "not standard cron"),
        ("0 0 LW * *", "not standard cron"),
        ("0 0 15W * *", "not standard cron"),
        ("0 0 * * 5L", "not standard cron"),
        ("0 0 * * 5#3", "not standard cron"),
        ("0 0 ? * *", "not standard cron"),
        ("H 0 * * *", "not standard cron"),
        ("H/5 0 * * *", "not standard cron"),
        ("H(0-29) 0 * * *", "not standard cron"),
        ("R 0 * * *", "not standard cron"),
        ("٣ * * * *", "not a valid minute"),
    ],
)
def test_bad_cron_is_a_validation_error_on_the_cron_field(expression, words):
    with pytest.raises(ValidationError) as excinfo:
        schedules.normalize_cron(expression)
    errors = field_errors(excinfo)
    assert list(errors) == ["cron"]
    assert words in errors["cron"][0]


def test_unknown_macro_error_lists_the_known_macros():
    with pytest.raises(ValidationError) as excinfo:
        schedules.normalize_cron("@fortnightly")
    message = field_errors(excinfo)["cron"][0]
    assert "@fortnightly" in message and "@daily" in message and "@hourly" in message


def test_cron_errors_keep_their_codes():
    with pytest.raises(ValidationError) as excinfo:
        schedules.normalize_cron("")
    assert excinfo.value.error_dict["cron"][0].code == "required"
    with pytest.raises(ValidationError) as excinfo:
        schedules.normalize_cron("1 2 3")
    assert excinfo.value.error_dict["cron"][0].code == "invalid_cron"


def test_a_cron_that_matches_rarely_still_finds_its_runs():
    runs = cron_runs_after("0 0 29 2 *", UTC, utc(2026, 1, 1), 2)
    assert runs == [utc(2028, 2, 29), utc(2032, 2, 29)]


# -- DST: the documented rule, in several zones ---------------------------------


def test_berlin_spring_forward_runs_a_skipped_time_at_the_first_minute_after_the_gap():
    # 29 March 2026: 02:00 CET becomes 03:00 CEST.
    runs = cron_runs_after("30 2 * * *", BERLIN, utc(2026, 3, 28, 12), 3)
    assert local(runs) == [
        "2026-03-29 03:00+0200",
        "2026-03-30 02:30+0200",
        "2026-03-31 02:30+0200",
    ]


def test_berlin_spring_forward_collapses_a_fixed_time_jobs_gap_slots_into_one_run():
    runs = cron_runs_after("0,20,40 2 * * *", BERLIN, utc(2026, 3, 29, 0, 30), 4)  # 01:30 CET
    assert local(runs) == [
        "2026-03-29 03:00+0200",
        "2026-03-30 02:00+0200",
        "2026-03-30 02:20+0200",
        "2026-03-30 02:40+0200",
    ]


def test_berlin_spring_forward_skips_a_wildcard_jobs_times_in_the_gap():
    runs = cron_runs_after("10-59/20 * * * *", BERLIN, utc(2026, 3, 29, 0, 30), 3)  # 01:30 CET
    assert local(runs) == [
        "2026-03-29 01:50+0100",
        "2026-03-29 03:10+0200",  # 02:10, 02:30 and 02:50 do not exist and are not run
        "2026-03-29 03:30+0200",
    ]
    runs = cron_runs_after("*/20 * * * *", BERLIN, utc(2026, 3, 29, 0, 30), 4)
    assert local(runs) == [
        "2026-03-29 01:40+0100",
        "2026-03-29 03:00+0200",
        "2026-03-29 03:20+0200",
        "2026-03-29 03:40+0200",
    ]


def test_berlin_fall_back_runs_a_repeated_time_once_on_its_first_occurrence():
    # 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    runs = cron_runs_after("30 2 * * *", BERLIN, utc(2026, 10, 24, 12), 2)
    assert local(runs) == ["2026-10-25 02:30+0200", "2026-10-26 02:30+0100"]
    assert runs[0].astimezone(UTC) == utc(2026, 10, 25, 0, 30)


def test_berlin_fall_back_hourly_cron_keeps_running_through_the_repeated_hour():
    # "0 * * * *" is a real-time job: 02:00 happens twice, so it runs twice, an hour apart.
    runs = cron_runs_after("0 * * * *", BERLIN, utc(2026, 10, 24, 23, 30), 4)  # 01:30 CEST
    assert local(runs) == [
        "2026-10-25 02:00+0200",
        "2026-10-25 02:00+0100",
        "2026-10-25 03:00+0100",
        "2026-10-25 04:00+0100",
    ]
    instants = [r.astimezone(UTC) for r in runs]
    assert [b - a for a, b in zip(instants, instants[1:], strict=False)] == [
        dt.timedelta(hours=1)
    ] * 3
    assert [r.fold for r in runs] == [0, 1, 0, 0]


def test_fall_back_does_not_run_again_when_asked_during_the_second_occurrence():
    # 01:10 UTC is 02:10 CET, the second pass through 02:xx; 02:30 already ran at 00:30 UTC.
    runs = cron_runs_after("30 2 * * *", BERLIN, utc(2026, 10, 25, 1, 10), 1)
    assert local(runs) == ["2026-10-26 02:30+0100"]


def test_new_york_spring_forward_and_fall_back():
    # 8 March 2026: 02:00 EST -> 03:00 EDT.  1 November 2026: 02:00 EDT -> 01:00 EST.
    spring = cron_runs_after("30 2 * * *", NEW_YORK, utc(2026, 3, 7, 12), 2)
    assert local(spring) == ["2026-03-08 03:00-0400", "2026-03-09 02:30-0400"]
    fall = cron_runs_after("30 1 * * *", NEW_YORK, utc(2026, 10, 31, 12), 2)
    assert local(fall) == ["2026-11-01 01:30-0400", "2026-11-02 01:30-0500"]
    assert fall[0].astimezone(UTC) == utc(2026, 11, 1, 5, 30)


def test_lord_howe_shifts_by_thirty_minutes():
    # 4 October 2026: 02:00 (+10:30) -> 02:30 (+11). 5 April 2026: 02:00 (+11) -> 01:30 (+10:30).
    spring = cron_runs_after("15 2 * * *", LORD_HOWE, utc(2026, 10, 3), 2)
    assert local(spring) == ["2026-10-04 02:30+1100", "2026-10-05 02:15+1100"]
    fall = cron_runs_after("45 1 * * *", LORD_HOWE, utc(2026, 4, 4, 0), 2)
    assert local(fall) == ["2026-04-05 01:45+1100", "2026-04-06 01:45+1030"]


def test_a_zone_without_dst_is_a_fixed_offset_all_year():
    for after in (utc(2026, 3, 28), utc(2026, 10, 24), utc(2026, 3, 7), utc(2026, 10, 31)):
        runs = cron_runs_after("30 2 * * *", TOKYO, after, 3)
        assert [r.utcoffset() for r in runs] == [dt.timedelta(hours=9)] * 3
        assert {r.strftime("%H:%M") for r in runs} == {"02:30"}
        assert runs[1] - runs[0] == runs[2] - runs[1] == dt.timedelta(days=1)


def test_resolve_wall_time_follows_the_rule():
    gap = schedules.resolve_wall_time(dt.datetime(2026, 3, 29, 2, 30), BERLIN)
    assert gap.astimezone(UTC) == utc(2026, 3, 29, 1, 0)
    repeated = schedules.resolve_wall_time(dt.datetime(2026, 10, 25, 2, 30), BERLIN)
    assert repeated.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    ordinary = schedules.resolve_wall_time(dt.datetime(2026, 6, 1, 2, 30), BERLIN)
    assert ordinary.astimezone(UTC) == utc(2026, 6, 1, 0, 30)


def test_gap_and_repeat_detection():
    assert schedules.is_nonexistent(dt.datetime(2026, 3, 29, 2, 0), BERLIN)
    assert not schedules.is_nonexistent(dt.datetime(2026, 3, 29, 3, 0), BERLIN)
    assert schedules.is_ambiguous(dt.datetime(2026, 10, 25, 2, 59), BERLIN)
    assert not schedules.is_ambiguous(dt.datetime(2026, 10, 25, 3, 0), BERLIN)
    assert not schedules.is_ambiguous(dt.datetime(2026, 10, 25, 2, 30), TOKYO)


# -- dst_note -------------------------------------------------------------------


def test_dst_note_explains_a_run_moved_out_of_the_gap():
    note = dst_note(utc(2026, 3, 29, 1, 0), BERLIN)
    assert "02:00" in note and "03:00" in note and "forward" in note


def test_dst_note_on_lord_howe_names_the_half_hour_gap():
    note = dst_note(utc(2026, 10, 3, 15, 30), LORD_HOWE)
    assert "02:00" in note and "02:30" in note


def test_dst_note_explains_a_repeated_time():
    first = dst_note(utc(2026, 10, 25, 0, 30), BERLIN)
    second = dst_note(utc(2026, 10, 25, 1, 30), BERLIN)
    assert "02:30" in first and "twice" in first and "first" in first and "1 hour" in first
    assert "second time" in second
    assert "30 minutes" in dst_note(utc(2026, 4, 4, 14, 45), LORD_HOWE)


def test_dst_note_is_empty_on_ordinary_days_and_zones_without_dst():
    assert dst_note(utc(2026, 6, 1, 4, 0), BERLIN) == ""
    assert dst_note(utc(2026, 3, 29, 1, 30), BERLIN) == ""  # later that day: nothing to say
    assert dst_note(utc(2026, 3, 28, 17, 30), TOKYO) == ""


# -- describe ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("0 6 * * 1-5", "At 06:00, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("@daily", "At 00:00"),
        ("30 18 * * 0", "At 18:30, only on Sunday"),
        ("0 0 * * 7", "At 00:00, only on Sunday"),
        # Both day fields restricted: either matches.
        ("0 0 13 * 5", "At 00:00, on day 13 of the month or on Friday"),
        ("0 9 1-7 * mon-fri", "At 09:00, on day 1 to 7 of the month or on Monday to Friday"),
        ("0 0 1-31 * 1", "At 00:00"),  # every day of the month, or Monday: every day
        # A day field starting with "*": both must match.
        (
            "45 8 */6 * 5",
            "At 08:45, only on Friday that is also day 1, 7, 13, 19, 25 or 31 of the month",
        ),
        (
            "0 0 1-7 * */2",
            "At 00:00, only on Tuesday, Thursday, Saturday or Sunday that is also day 1 to 7 "
            "of the month",
        ),
        ("0 12 * * */2", "At 12:00, only on Sunday, Tuesday, Thursday, and Saturday"),
        ("0 0 */6 * *", "At 00:00, on day 1, 7, 13, 19, 25, and 31 of the month"),
        # One-value ranges and steps are their values.
        ("0 3-3 * * *", "At 03:00"),
        ("0-0 0-0 1-1 1-1 *", "At 00:00, on day 1 of the month, only in January"),
        ("3-3/2 * * * *", "At 3 minutes past the hour"),
        ("5/20 * * * *", "Every 20 minutes, minutes 5 through 45 past the hour"),
    ],
)
def test_describe_cron_is_readable_text(expression, text):
    assert schedules.describe_cron(expression) == text


def test_describe_cron_rejects_bad_input_instead_of_describing_it():
    with pytest.raises(ValidationError):
        schedules.describe_cron("not cron")


def test_cron_input_is_bounded_and_quoted_short():
    long_valid_list = ",".join(str(m) for m in range(0, 60, 2)) + " * * * *"
    assert len(long_valid_list) < schedules.MAX_CRON_LENGTH
    assert schedules.normalize_cron(long_valid_list) == long_valid_list
    for text in ("0," * 100 + "0 * * * *", "1-2," * 20_000 + " * * * *", "x" * 100_000):
        with pytest.raises(ValidationError) as excinfo:
            schedules.normalize_cron(text)
        assert "200 characters" in field_errors(excinfo)["cron"][0]
    for text in ("1," * 40 + "61 * * * *", "a" * 150 + " * * * *", "0 0 " + "5," * 60 + "L * *"):
        with pytest.raises(ValidationError) as excinfo:
            schedules.normalize_cron(text)
        message = field_errors(excinfo)["cron"][0]
        assert len(message) < 80 + 200, message  # the quote is clipped, the rest is our text
        assert text[:200] not in message


def test_every_error_message_quotes_at_most_80_characters_of_input():
    zone = "Europe/" + "x" * 500
    with pytest.raises(ValidationError) as excinfo:
        Schedule("cron", cron="* * * * " + "9" * 150, timezone=zone).validate(NOW)
    errors = field_errors(excinfo)
    assert "x" * 80 not in errors["timezone"][0] and "x" * 70 in errors["timezone"][0]
    assert "9" * 80 not in errors["cron"][0]
    with pytest.raises(ValidationError) as excinfo:
        Schedule("y" * 500).validate(NOW)
    assert "y" * 80 not in field_errors(excinfo)["schedule_type"][0]
    with pytest.raises(ValidationError) as excinfo:
        schedules.parse_interval(f"5 {'z' * 500}")
    assert "z" * 80 not in field_errors(excinfo)["interval"][0]


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (
            Schedule("cron", cron="0 6 * * 1-5", timezone="Europe/Berlin"),
            "At 06:00, Monday through Friday (Europe/Berlin)",
        ),
        (
            Schedule("conditional", cron="0 * * * *"),
            "When its condition holds, checked: Every hour (UTC)",
        ),
        (
            Schedule("one_time", run_at=utc(2026, 7, 1, 4, 0), timezone="Europe/Berlin"),
            "Once, at Wed, 2026-07-01 06:00 CEST",
        ),
        (Schedule("recurring", interval_every=1, interval_unit="minutes"), "Every minute"),
        (Schedule("recurring", interval_every=15, interval_unit="minutes"), "Every 15 minutes"),
        (Schedule("recurring", interval_every=2, interval_unit="weeks"), "Every 2 weeks"),
        (Schedule("recurring", interval_every=1, interval_unit="days"), "Every day"),
        (Schedule("event", event="invoice.paid"), "On event “invoice.paid”"),
    ],
)
def test_schedule_describe(schedule, text):
    assert schedule.describe() == text


# -- one_time -----------------------------------------------------------------------


def test_one_time_runs_once_at_run_at():
    sched = Schedule("one_time", run_at=utc(2026, 6, 2, 8)).validate(NOW)
    assert sched.runs_after(NOW, 5) == [utc(2026, 6, 2, 8)]
    assert sched.first_run(NOW) == utc(2026, 6, 2, 8)
    assert sched.runs_after(utc(2026, 6, 2, 8)) == []


def test_one_time_naive_run_at_is_a_wall_time_in_the_tasks_zone():
    sched = Schedule("one_time", run_at=dt.datetime(2026, 7, 1, 6, 0), timezone="Europe/Berlin")
    assert sched.validate(NOW).run_at == utc(2026, 7, 1, 4, 0)


def test_one_time_run_at_may_be_iso_text():
    sched = Schedule("one_time", run_at="2026-07-01T06:00:00+02:00").validate(NOW)
    assert sched.run_at == utc(2026, 7, 1, 4, 0)


def test_one_time_naive_run_at_in_a_gap_moves_after_the_gap():
    sched = Schedule("one_time", run_at=dt.datetime(2027, 3, 28, 2, 30), timezone="Europe/Berlin")
    assert sched.validate(NOW).run_at == utc(2027, 3, 28, 1, 0)


@pytest.mark.parametrize("run_at", [NOW, NOW - dt.timedelta(seconds=1), utc(2020, 1, 1)])
def test_one_time_in_the_past_is_refused(run_at):
    with pytest.raises(ValidationError) as excinfo:
        Schedule("one_time", run_at=run_at).validate(NOW)
    assert list(field_errors(excinfo)) == ["run_at"]
    assert "in the past" in field_errors(excinfo)["run_at"][0]
    assert excinfo.value.error_dict["run_at"][0].code == "in_past"


def test_one_time_in_the_past_may_be_accepted_when_asked():
    assert Schedule("one_time", run_at=utc(2020, 1, 1)).validate(NOW, check_past=False).run_at


@pytest.mark.parametrize(
    ("run_at", "words"),
    [
        (None, "Give the date and time"),
        ("", "Give the date and time"),
        ("tomorrow", "valid date and time"),
        (12345, "valid date and time"),
        ("2026-13-40 10:00", "valid date and time"),
    ],
)
def test_one_time_needs_a_readable_run_at(run_at, words):
    with pytest.raises(ValidationError) as excinfo:
        Schedule("one_time", run_at=run_at).validate(NOW)
    assert words in field_errors(excinfo)["run_at"][0]


# -- recurring --------------------------------------------------------------------


def test_recurring_minutes_follow_the_anchor():
    sched = Schedule(
        "recurring", run_at=utc(2026, 6, 1, 11, 7), interval_every=15, interval_unit="minutes"
    ).validate(NOW)
    assert sched.runs_after(NOW, 3) == [
        utc(2026, 6, 1, 12, 7),
        utc(2026, 6, 1, 12, 22),
        utc(2026, 6, 1, 12, 37),
    ]


def test_recurring_future_anchor_is_the_first_run():
    sched = Schedule(
        "recurring", run_at=utc(2026, 6, 3, 9), interval_every=2, interval_unit="hours"
    ).validate(NOW)
    assert sched.first_run(NOW) == utc(2026, 6, 3, 9)
    assert sched.runs_after(NOW, 2) == [utc(2026, 6, 3, 9), utc(2026, 6, 3, 11)]


def test_recurring_without_start_first_runs_one_interval_from_now_and_keeps_that_phase():
    now = NOW + dt.timedelta(seconds=27, microseconds=500)
    sched = Schedule("recurring", interval_every=15, interval_unit="minutes").validate(now)
    assert sched.run_at == utc(2026, 6, 1, 12, 0, 27)
    assert sched.first_run(now) == utc(2026, 6, 1, 12, 15, 27)
    # Computed later from the run that just happened, the phase does not drift.
    assert sched.next_after(sched.first_run(now)) == utc(2026, 6, 1, 12, 30, 27)
    assert sched.next_after(utc(2026, 6, 1, 13)) == utc(2026, 6, 1, 13, 0, 27)


def test_recurring_hours_are_elapsed_time_across_dst():
    sched = Schedule(
        "recurring",
        run_at=utc(2026, 3, 28, 23),
        interval_every=1,
        interval_unit="hours",
        timezone="Europe/Berlin",
    ).validate(NOW)
    runs = sched.runs_after(utc(2026, 3, 29, 0, 30), 3)
    assert [r.astimezone(UTC) for r in runs] == [
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
        utc(2026, 3, 29, 3),
    ]
    assert local(runs) == [
        "2026-03-29 03:00+0200",
        "2026-03-29 04:00+0200",
        "2026-03-29 05:00+0200",
    ]


def test_recurring_days_keep_the_wall_clock_time_across_dst():
    anchor = utc(2026, 3, 27, 1, 30)  # 02:30 CET
    runs = interval_runs_after(1, "days", anchor, BERLIN, utc(2026, 3, 27, 12), 4)
    assert local(runs) == [
        "2026-03-28 02:30+0100",
        "2026-03-29 03:00+0200",
        "2026-03-30 02:30+0200",
        "2026-03-31 02:30+0200",
    ]
    fall = interval_runs_after(
        1, "days", utc(2026, 10, 23, 0, 30), BERLIN, utc(2026, 10, 24, 12), 2
    )
    assert local(fall) == ["2026-10-25 02:30+0200", "2026-10-26 02:30+0100"]


def test_recurring_weeks_keep_the_weekday_and_wall_clock_time():
    anchor = utc(2026, 3, 16, 8)  # Monday 09:00 CET
    runs = interval_runs_after(2, "weeks", anchor, BERLIN, utc(2026, 3, 20), 3)
    assert local(runs) == [
        "2026-03-30 09:00+0200",
        "2026-04-13 09:00+0200",
        "2026-04-27 09:00+0200",
    ]
    assert {r.weekday() for r in runs} == {0}


def test_recurring_days_without_start_keep_the_wall_clock_time_of_now():
    # Scheduled at 02:30 CET the day before clocks go forward: the gap day runs at 03:00,
    # and the days after return to 02:30.
    now = utc(2026, 3, 28, 1, 30)
    sched = Schedule(
        "recurring", interval_every=1, interval_unit="days", timezone="Europe/Berlin"
    ).validate(now)
    assert local(sched.runs_after(now, 3)) == [
        "2026-03-29 03:00+0200",
        "2026-03-30 02:30+0200",
        "2026-03-31 02:30+0200",
    ]


@pytest.mark.parametrize("count", [0, -1])
def test_asking_for_no_runs_gives_none(count):
    for sched in (
        Schedule("cron", cron="* * * * *"),
        Schedule("one_time", run_at=utc(2030, 1, 1)),
        Schedule("recurring", run_at=NOW, interval_every=1, interval_unit="hours"),
    ):
        assert sched.runs_after(NOW, count) == []


def test_recurring_days_far_after_the_anchor_are_computed_without_walking_every_day():
    runs = interval_runs_after(3, "days", utc(2000, 1, 1, 6), TOKYO, utc(2026, 6, 1), 2)
    assert runs[1] - runs[0] == dt.timedelta(days=3)
    assert (runs[0].astimezone(UTC) - utc(2000, 1, 1, 6)).days % 3 == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15 minutes", (15, "minutes")),
        ("1 hour", (1, "hours")),
        ("2 Days", (2, "days")),
        ((3, "weeks"), (3, "weeks")),
        ([4, "hours"], (4, "hours")),
        (("5", " minute "), (5, "minutes")),
        (10, (10, "minutes")),
        (dt.timedelta(hours=2), (2, "hours")),
        (dt.timedelta(minutes=90), (90, "minutes")),
        (dt.timedelta(days=14), (2, "weeks")),
    ],
)
def test_parse_interval_accepts_the_documented_forms(value, expected):
    assert schedules.parse_interval(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "at least 1"),
        (-5, "at least 1"),
        ("0 minutes", "at least 1"),
        ("-1 hours", "at least 1"),
        ((0, "days"), "at least 1"),
        ("soon", "positive number and a unit"),
        ("fifteen minutes", "positive number and a unit"),
        ("1.5 hours", "positive number and a unit"),
        ("1 2 3", "positive number and a unit"),
        (None, "positive number and a unit"),
        (True, "positive number and a unit"),
        ((True, "hours"), "positive number and a unit"),
        (1.5, "positive number and a unit"),
        ({"every": 5}, "positive number and a unit"),
        ("5 fortnights", "Unknown interval unit"),
        ((5, "seconds"), "Unknown interval unit"),
        ("5 s", "Unknown interval unit"),
        (dt.timedelta(0), "whole minutes"),
        (dt.timedelta(seconds=-60), "whole minutes"),
        (dt.timedelta(seconds=90), "whole minutes"),
        ("99999999999999999999 weeks", "at most"),
        (10**30, "at most"),
    ],
)
def test_bad_intervals_are_validation_errors_on_the_interval_field(value, words):
    with pytest.raises(ValidationError) as excinfo:
        schedules.parse_interval(value)
    errors = field_errors(excinfo)
    assert list(errors) == ["interval"]
    assert words in errors["interval"][0]


def test_recurring_needs_an_interval():
    with pytest.raises(ValidationError) as excinfo:
        Schedule("recurring").validate(NOW)
    assert list(field_errors(excinfo)) == ["interval"]


# -- event and conditional ----------------------------------------------------------


def test_event_schedule_has_no_times():
    sched = Schedule("event", event="  invoice.paid ").validate(NOW)
    assert sched.event == "invoice.paid"
    assert not sched.is_timed
    assert sched.runs_after(NOW) == []
    assert sched.first_run(NOW) is None


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ("", "Name the event"),
        ("   ", "Name the event"),
        (None, "Name the event"),
        ("x" * 121, "120 characters"),
    ],
)
def test_event_needs_a_name(event, words):
    with pytest.raises(ValidationError) as excinfo:
        Schedule("event", event=event).validate(NOW)
    assert list(field_errors(excinfo)) == ["event"]
    assert words in field_errors(excinfo)["event"][0]


def test_conditional_is_checked_on_its_cron():
    sched = Schedule("conditional", cron="@hourly", timezone="Asia/Tokyo").validate(NOW)
    assert sched.cron == "0 * * * *"
    assert sched.first_run(NOW) == utc(2026, 6, 1, 13)
    with pytest.raises(ValidationError) as excinfo:
        Schedule("conditional", cron="").validate(NOW)
    assert list(field_errors(excinfo)) == ["cron"]


# -- type and zone errors ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["", "weekly", "CRON", None])
def test_unknown_schedule_type_names_the_known_ones(kind):
    with pytest.raises(ValidationError) as excinfo:
        Schedule(kind).validate(NOW)
    message = field_errors(excinfo)["schedule_type"][0]
    assert all(name in message for name in schedules.SCHEDULE_TYPES)


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "Europe/Berlinn",
        "../etc/passwd",
        "/etc/localtime",
        "Europe",
        "Europe/Berlin\x00",
        "europe/berlin",
        "x" * 300,
    ],
)
def test_unknown_time_zone_is_a_validation_error_on_the_timezone_field(name):
    with pytest.raises(ValidationError) as excinfo:
        Schedule("cron", cron="@daily", timezone=name).validate(NOW)
    errors = field_errors(excinfo)
    assert list(errors) == ["timezone"]
    assert "Unknown time zone" in errors["timezone"][0]
    assert "Europe/Berlin" in errors["timezone"][0]  # the hint shows a valid name


def test_zone_and_field_errors_are_reported_together():
    with pytest.raises(ValidationError) as excinfo:
        Schedule("cron", cron="bad", timezone="Nowhere/Land").validate(NOW)
    assert set(field_errors(excinfo)) == {"cron", "timezone"}


def test_blank_zone_means_utc_and_names_are_normalized():
    assert Schedule("cron", cron="@daily", timezone="").validate(NOW).timezone == "UTC"
    assert Schedule("cron", cron="@daily", timezone=" Europe/Berlin ").validate(NOW).timezone == (
        "Europe/Berlin"
    )


# -- properties ----------------------------------------------------------------------

ZONES = [BERLIN, NEW_YORK, LORD_HOWE, TOKYO, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")]
# Around the 2026 DST changes of the zones above, and an ordinary day.
AROUND = [
    utc(2026, 3, 7, 20),
    utc(2026, 3, 28, 20),
    utc(2026, 4, 4, 10),
    utc(2026, 10, 3, 10),
    utc(2026, 10, 24, 20),
    utc(2026, 10, 31, 20),
    utc(2026, 6, 15),
]

minute_fields = st.sampled_from(
    ["*", "0", "30", "*/15", "5,35", "0-10/5", "59", "15-15", "10,*/20"]
)
hour_fields = st.sampled_from(["*", "2", "1-3", "*/2", "0,12", "23", "2-2", "1/2"])
day_fields = st.sampled_from(["*", "*", "1", "15", "*/6", "1-7"])
weekday_fields = st.sampled_from(["*", "*", "0", "1-5", "6", "7", "*/2"])
crons = st.builds(
    lambda m, h, d, w: f"{m} {h} {d} * {w}", minute_fields, hour_fields, day_fields, weekday_fields
)
afters = st.builds(
    lambda base, minutes, seconds: base + dt.timedelta(minutes=minutes, seconds=seconds),
    st.sampled_from(AROUND),
    st.integers(-36 * 60, 36 * 60),
    st.integers(0, 59),
)


def _moved_out_of_gap(run: dt.datetime, tz: ZoneInfo) -> bool:
    before = (run.astimezone(UTC) - dt.timedelta(minutes=1)).astimezone(tz)
    return before.utcoffset() != run.utcoffset()


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(expression=crons, tz=st.sampled_from(ZONES), after=afters)
def test_cron_runs_increase_follow_after_and_match_the_cron(expression, tz, after):
    runs = cron_runs_after(expression, tz, after, 6)
    assert runs, expression
    instants = [r.astimezone(UTC) for r in runs]
    assert instants[0] > after
    assert all(a < b for a, b in zip(instants, instants[1:], strict=False))
    fixed_time = compile_cron(expression).fixed_time
    for run in runs:
        wall = run.astimezone(tz).replace(tzinfo=None)
        moved = fixed_time and _moved_out_of_gap(run, tz)
        assert cron_matches(expression, wall) or moved, (expression, run)
        assert run.second == 0 and run.microsecond == 0


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(
    expression=crons,
    tz=st.sampled_from(ZONES),
    after=st.builds(
        lambda base, minutes: base + dt.timedelta(minutes=minutes),
        st.sampled_from(AROUND),
        st.integers(-20 * 60, 4 * 60),
    ),
)
def test_cron_runs_are_exactly_the_real_minutes_the_dst_rule_picks(expression, tz, after):
    """Minute by minute over a day: a wildcard job runs at every matching real minute (both
    passes through a repeated hour); a fixed-time job at the first pass only, plus at the
    end of a gap that swallowed one of its times."""
    fixed_time = compile_cron(expression).fixed_time
    end = after + dt.timedelta(hours=26)
    wanted = []
    minute = after + dt.timedelta(minutes=1)
    while minute <= end:
        wall = minute.astimezone(tz)
        if cron_matches(expression, wall) and not (fixed_time and wall.fold):
            wanted.append(minute)
        elif fixed_time and _moved_out_of_gap(minute, tz):
            previous = (minute - dt.timedelta(minutes=1)).astimezone(tz)
            gap = (wall.utcoffset() - previous.utcoffset()) // dt.timedelta(minutes=1)
            start = previous.replace(tzinfo=None)
            swallowed = [start + dt.timedelta(minutes=k) for k in range(1, gap + 1)]
            if any(cron_matches(expression, w) for w in swallowed):
                wanted.append(minute)
        minute += dt.timedelta(minutes=1)
    found = [r.astimezone(UTC) for r in cron_runs_after(expression, tz, after, len(wanted) + 1)]
    assert found[: len(wanted)] == wanted, (expression, tz.key, after)
    assert found[len(wanted)] > end


@settings(max_examples=100, deadline=None)
@given(
    every=st.integers(1, 500),
    unit=st.sampled_from(list(schedules.INTERVAL_UNITS)),
    tz=st.sampled_from(ZONES),
    anchor=afters,
    offset=st.integers(-10_000, 200_000),
)
def test_interval_runs_increase_and_follow_after(every, unit, tz, anchor, offset):
    after = anchor + dt.timedelta(minutes=offset)
    runs = interval_runs_after(every, unit, anchor, tz, after, 4)
    instants = [r.astimezone(UTC) for r in runs]
    assert len(instants) == 4
    assert instants[0] > after
    assert all(a < b for a, b in zip(instants, instants[1:], strict=False))
    if unit not in schedules.WALL_CLOCK_UNITS:
        step = schedules.INTERVAL_UNITS[unit] * every
        assert all((i - anchor) % step == dt.timedelta(0) for i in instants)
        assert instants[0] - step <= max(after, anchor - step)

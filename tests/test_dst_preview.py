"""DST-aware previews: each upcoming run says what the DST rule does to it, per zone."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from scheduler_app import schedules, services
from scheduler_app.models import ScheduledTask
from scheduler_app.schedules import (
    DST_FIRST,
    DST_MOVED,
    DST_REPEATED,
    DST_SECOND,
    DST_SKIPPED,
    Schedule,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"
TOKYO = "Asia/Tokyo"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def cron_runs(
    expr: str, zone: str, after: dt.datetime, count: int = 3
) -> list[schedules.PlannedRun]:
    return schedules.planned_runs(Schedule("cron", cron=expr, timezone=zone), after, count)


def local(run: schedules.PlannedRun, zone: str) -> str:
    return run.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %z")


# -- the rule, zone by zone ------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expr", "after", "runs_at", "gap"),
    [
        # Clocks go 02:00 -> 03:00 on 29 March 2026 in Berlin.
        (BERLIN, "30 2 * * *", utc(2026, 3, 28, 12), "2026-03-29 03:00 +0200", ("02:00", "03:00")),
        # 02:00 -> 03:00 on 8 March 2026 in New York.
        (NEW_YORK, "30 2 * * *", utc(2026, 3, 7, 12), "2026-03-08 03:00 -0400", ("02:00", "03:00")),
        # Lord Howe moves by half an hour: 02:00 -> 02:30 on 4 October 2026.
        (
            LORD_HOWE,
            "15 2 * * *",
            utc(2026, 10, 3, 12),
            "2026-10-04 02:30 +1100",
            ("02:00", "02:30"),
        ),
    ],
)
def test_a_time_in_the_spring_gap_runs_at_the_first_minute_after_it(
    zone, expr, after, runs_at, gap
):
    first, second, _third = cron_runs(expr, zone, after)
    assert local(first, zone) == runs_at
    assert first.dst == DST_MOVED
    minute, hour = expr.split()[:2]
    assert [m.strftime("%H:%M") for m in first.moved_from] == [f"{hour:0>2}:{minute:0>2}"]
    start, end = gap
    assert f"from {start} to {end}" in first.note and f"runs at {end}" in first.note
    assert second.dst == "" and second.note == ""  # the next day is an ordinary day


@pytest.mark.parametrize(
    ("zone", "expr", "after", "first_at", "shift"),
    [
        # Berlin 03:00 -> 02:00 on 25 October 2026: 02:30 happens twice.
        (BERLIN, "30 2 * * *", utc(2026, 10, 24, 12), "2026-10-25 02:30 +0200", "1 hour"),
        # New York 02:00 -> 01:00 on 1 November 2026: 01:30 happens twice.
        (NEW_YORK, "30 1 * * *", utc(2026, 10, 31, 12), "2026-11-01 01:30 -0400", "1 hour"),
        # Lord Howe 02:00 -> 01:30 on 5 April 2026: 01:45 happens twice.
        (LORD_HOWE, "45 1 * * *", utc(2026, 4, 4, 12), "2026-04-05 01:45 +1100", "30 minutes"),
    ],
)
def test_a_repeated_time_runs_once_on_its_first_occurrence(zone, expr, after, first_at, shift):
    runs = cron_runs(expr, zone, after)
    assert local(runs[0], zone) == first_at
    assert runs[0].dst == DST_FIRST
    assert f"clocks go back {shift}" in runs[0].note and "runs once, at the first" in runs[0].note
    # Exactly one run that day: the next one is a day (plus the shift) later.
    assert (
        runs[1].at.astimezone(ZoneInfo(zone)).date() > runs[0].at.astimezone(ZoneInfo(zone)).date()
    )
    assert runs[1].dst == ""


def test_every_slot_in_the_gap_collapses_into_one_run_named_in_the_note():
    runs = cron_runs("0,15,30,45 2 * * *", NEW_YORK, utc(2026, 3, 8, 5), count=2)
    assert local(runs[0], NEW_YORK) == "2026-03-08 03:00 -0400"
    assert [m.strftime("%H:%M") for m in runs[0].moved_from] == ["02:00", "02:15", "02:30", "02:45"]
    assert "do not exist" in runs[0].note and "runs once, at 03:00" in runs[0].note
    assert local(runs[1], NEW_YORK) == "2026-03-09 02:00 -0400"


def test_a_wildcard_jobs_times_in_the_gap_are_skipped_and_the_next_run_says_so():
    # "*/15 2 * * *" follows real time: 02:00-02:59 does not exist on 8 March, so no run that day.
    runs = cron_runs("*/15 2 * * *", NEW_YORK, utc(2026, 3, 8, 5), count=2)
    assert [local(r, NEW_YORK) for r in runs] == [
        "2026-03-09 02:00 -0400",
        "2026-03-09 02:15 -0400",
    ]
    assert runs[0].dst == DST_SKIPPED and runs[0].moved_from == ()
    assert "02:00, 02:15, 02:30, 02:45 did not exist on 2026-03-08" in runs[0].note
    assert "from 02:00 to 03:00" in runs[0].note and "skipped" in runs[0].note
    assert runs[1].dst == "" and runs[1].note == ""


def test_an_every_minute_job_runs_through_the_gap_and_notes_what_it_skipped():
    runs = cron_runs("* * * * *", BERLIN, utc(2026, 3, 29, 0, 58), count=3)
    assert [local(r, BERLIN) for r in runs] == [
        "2026-03-29 01:59 +0100",
        "2026-03-29 03:00 +0200",
        "2026-03-29 03:01 +0200",
    ]
    assert [r.dst for r in runs] == ["", DST_SKIPPED, ""]
    assert "02:00, 02:01, 02:02, 02:03 …" in runs[1].note


def test_a_wildcard_job_runs_on_both_passes_through_a_repeated_hour():
    runs = cron_runs("*/30 * * * *", BERLIN, utc(2026, 10, 24, 23, 50), count=5)
    assert [local(r, BERLIN) for r in runs] == [
        "2026-10-25 02:00 +0200",
        "2026-10-25 02:30 +0200",
        "2026-10-25 02:00 +0100",
        "2026-10-25 02:30 +0100",
        "2026-10-25 03:00 +0100",
    ]
    assert [r.dst for r in runs] == [DST_REPEATED, DST_REPEATED, DST_SECOND, DST_SECOND, ""]
    assert "this is the first 02:00 (CEST)" in runs[0].note
    assert "this is the second 02:00 (CET)" in runs[2].note


def test_a_run_planned_right_after_the_gap_has_no_note():
    runs = cron_runs("0 3 * * *", BERLIN, utc(2026, 3, 28, 12), count=1)
    assert local(runs[0], BERLIN) == "2026-03-29 03:00 +0200"
    assert runs[0].dst == "" and runs[0].note == ""


def test_a_zone_without_dst_never_has_notes():
    runs = cron_runs("*/30 * * * *", TOKYO, utc(2026, 3, 28, 12), count=200)
    runs += cron_runs("*/30 * * * *", TOKYO, utc(2026, 10, 24, 12), count=200)
    assert all(r.dst == "" and r.note == "" for r in runs)
    assert len({r.at for r in runs}) == 400


def test_a_daily_interval_keeps_its_wall_time_and_is_moved_out_of_the_gap():
    sched = Schedule(
        "recurring",
        interval_every=1,
        interval_unit="days",
        run_at=utc(2026, 3, 20, 1, 30),
        timezone=BERLIN,
    )  # 02:30 CET
    runs = schedules.planned_runs(sched, utc(2026, 3, 28, 12), 2)
    assert local(runs[0], BERLIN) == "2026-03-29 03:00 +0200" and runs[0].dst == DST_MOVED
    assert local(runs[1], BERLIN) == "2026-03-30 02:30 +0200" and runs[1].dst == ""


def test_an_elapsed_interval_runs_both_occurrences_of_a_repeated_time():
    sched = Schedule(
        "recurring",
        interval_every=30,
        interval_unit="minutes",
        run_at=utc(2026, 10, 24, 22),
        timezone=BERLIN,
    )
    runs = schedules.planned_runs(sched, utc(2026, 10, 24, 23, 50), 4)
    assert [local(r, BERLIN) for r in runs] == [
        "2026-10-25 02:00 +0200",
        "2026-10-25 02:30 +0200",
        "2026-10-25 02:00 +0100",
        "2026-10-25 02:30 +0100",
    ]
    assert [r.dst for r in runs] == [DST_REPEATED, DST_REPEATED, DST_SECOND, DST_SECOND]
    assert "second 02:00 (CET)" in runs[2].note


def test_an_hourly_interval_across_the_gap_is_elapsed_time_without_a_note():
    sched = Schedule(
        "recurring",
        interval_every=1,
        interval_unit="hours",
        run_at=utc(2026, 3, 28, 23, 30),
        timezone=BERLIN,
    )
    runs = schedules.planned_runs(sched, utc(2026, 3, 28, 23, 50), 2)
    assert [local(r, BERLIN) for r in runs] == ["2026-03-29 01:30 +0100", "2026-03-29 03:30 +0200"]
    assert all(r.note == "" for r in runs)


def test_planned_runs_are_the_runs_of_next_runs():
    after = utc(2026, 3, 1)
    for zone in (BERLIN, NEW_YORK, LORD_HOWE, TOKYO):
        sched = Schedule("cron", cron="*/20 1-3 * * *", timezone=zone)
        assert [r.at for r in schedules.planned_runs(sched, after, 300)] == sched.runs_after(
            after, 300
        )


def test_dst_note_of_a_local_time_is_the_same_as_of_its_utc_instant():
    zone = ZoneInfo(BERLIN)
    instant = utc(2026, 3, 29, 1, 0)
    assert (
        schedules.dst_note(instant.astimezone(zone), zone)
        == schedules.dst_note(instant, zone)
        != ""
    )


# -- services, the JSON preview and the task page --------------------------------


def test_services_next_runs_with_notes_for_arguments_and_for_a_task(make_task):
    runs = services.next_runs_with_notes(
        "cron", cron="30 2 * * *", timezone=BERLIN, after=utc(2026, 3, 28, 12), count=2
    )
    assert [r.dst for r in runs] == [DST_MOVED, ""]
    task = make_task(cron="30 2 * * *", timezone=NEW_YORK)
    runs = services.next_runs_with_notes(task=task, after=utc(2026, 10, 31, 12), count=2)
    assert [r.dst for r in runs] == ["", ""]  # 02:30 is after the 01:00-02:00 repeat in New York
    runs = services.next_runs_with_notes(task=task, after=utc(2026, 3, 7, 12), count=1)
    assert runs[0].dst == DST_MOVED


@pytest.fixture
def frozen_preview(monkeypatch):
    def freeze(at: dt.datetime) -> None:
        monkeypatch.setattr("scheduler_app.views.preview.timezone", SimpleNamespace(now=lambda: at))

    return freeze


def test_the_json_preview_flags_runs_on_dst_changes(client, make_user, frozen_preview):
    client.force_login(make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD"))
    frozen_preview(utc(2026, 3, 27, 12))
    payload = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "cron", "cron": "30 2 * * *", "timezone": BERLIN},
    ).json()
    assert payload["valid"] is True
    flagged = [(run["text"], run["dst"]) for run in payload["runs"] if run["note"]]
    assert flagged == [("Sun, 2026-03-29 03:00 CEST", DST_MOVED)]
    assert payload["runs"][0]["dst"] == "" and payload["runs"][0]["note"] == ""
    frozen_preview(utc(2026, 10, 30, 12))
    payload = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "cron", "cron": "30 1 * * *", "timezone": NEW_YORK},
    ).json()
    assert [run["dst"] for run in payload["runs"]][:3] == [
        "",
        DST_FIRST,
        "",
    ]  # 31 Oct, 1 Nov, 2 Nov
    assert "occurs twice" in payload["runs"][1]["note"]


def test_the_task_page_preview_shows_the_dst_notes(client, make_task, make_user, monkeypatch):
    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task(cron="15 2 * * *", timezone=LORD_HOWE)
    monkeypatch.setattr(
        "scheduler_app.services.reading.resolve_now", lambda now: now or utc(2026, 10, 2, 12)
    )
    client.force_login(admin)
    html = client.get(
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    ).content.decode()
    assert 'data-dst="moved"' in html
    assert "clocks go forward from 02:00 to 02:30" in html
    assert ScheduledTask.objects.filter(pk=task.pk).exists()

"""Blackout calendars: periods, .ics import, skipped runs, previews, permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import run_pass
from scheduler_app.models import BlackoutCalendar, ScheduledTask, TaskExecutionLog
from scheduler_app.services import calendars
from scheduler_app.services.calendars import Period
from tests.ics_files import all_day, ics, periods_formset
from tests.testapp.models import Execution

ADMIN = "scheduler_app.SA_SCHEDULER_ADMIN"


def ago(**kwargs) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


def today_calendar(name: str = "Freeze", zone: str = "") -> BlackoutCalendar:
    today = timezone.now().date()
    return calendars.create_calendar(
        user=None,
        name=name,
        timezone=zone,
        periods=[
            Period(
                today - dt.timedelta(days=1), today + dt.timedelta(days=1), label="release freeze"
            )
        ],
    )


# -- periods and validation ------------------------------------------------------


def test_a_reversed_period_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="ends before it starts"):
        calendars.check_periods(
            [Period(dt.date(2026, 12, 26), dt.date(2026, 12, 24), label="Xmas")]
        )


def test_overlapping_periods_are_refused_naming_both():
    with pytest.raises(ValidationError) as info:
        calendars.check_periods(
            [
                Period(dt.date(2026, 12, 24), dt.date(2026, 12, 26), label="Christmas"),
                Period(dt.date(2026, 12, 26), dt.date(2026, 12, 27), label="Boxing week"),
            ]
        )
    message = " ".join(info.value.messages)
    assert "overlap" in message and "Christmas" in message and "Boxing week" in message


def test_adjacent_periods_and_time_cut_periods_do_not_overlap():
    calendars.check_periods(
        [
            Period(dt.date(2026, 12, 24), dt.date(2026, 12, 24), label="Eve"),
            Period(dt.date(2026, 12, 25), dt.date(2026, 12, 25), label="Day"),
            Period(
                dt.date(2026, 12, 26), dt.date(2026, 12, 26), end_time=dt.time(12), label="Morning"
            ),
            Period(
                dt.date(2026, 12, 26),
                dt.date(2026, 12, 26),
                start_time=dt.time(12),
                label="Afternoon",
            ),
        ]
    )


@pytest.mark.django_db
def test_adding_a_period_that_overlaps_a_stored_one_is_refused():
    calendar = calendars.create_calendar(
        user=None,
        name="Holidays",
        periods=[Period(dt.date(2026, 5, 1), dt.date(2026, 5, 1), label="Labour Day")],
    )
    with pytest.raises(ValidationError, match="overlap"):
        calendars.add_periods(
            calendar, [Period(dt.date(2026, 4, 30), dt.date(2026, 5, 2))], user=None
        )
    assert calendar.periods.count() == 1


@pytest.mark.django_db
def test_unknown_zone_and_duplicate_name_are_field_errors():
    with pytest.raises(ValidationError) as info:
        calendars.create_calendar(user=None, name="X", timezone="Mars/Olympus")
    assert "timezone" in info.value.message_dict
    calendars.create_calendar(user=None, name="X")
    with pytest.raises(ValidationError) as info:
        calendars.create_calendar(user=None, name="X")
    assert "name" in info.value.message_dict


@pytest.mark.django_db
def test_only_scheduler_admins_manage_calendars(make_user):
    with pytest.raises(PermissionDenied):
        calendars.create_calendar(user=make_user("scheduler_app.SA_SCHEDULER"), name="Mine")
    assert calendars.create_calendar(user=make_user(ADMIN), name="Theirs").pk


# -- .ics -----------------------------------------------------------------------


def test_parse_ics_reads_all_day_and_timed_events():
    data = ics(
        all_day(dt.date(2026, 12, 25), "Christmas Day", days=2),
        "BEGIN:VEVENT\nUID:f@test\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=Europe/Berlin:20261201T180000\n"
        "DTEND;TZID=Europe/Berlin:20261202T060000\nSUMMARY:Deploy freeze\nEND:VEVENT\n",
    )
    periods = calendars.parse_ics(data)
    assert periods[0] == Period(dt.date(2026, 12, 25), dt.date(2026, 12, 26), label="Christmas Day")
    assert periods[1] == Period(
        dt.date(2026, 12, 1), dt.date(2026, 12, 2), dt.time(18), dt.time(6), "Deploy freeze"
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ("", "empty"),
        ("hello, world", "not a valid iCalendar"),
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no events"),
        (
            ics(
                "BEGIN:VEVENT\nUID:r@test\nDTSTART;VALUE=DATE:20261231\nDTEND;VALUE=DATE:20261230\n"
                "SUMMARY:Backwards\nEND:VEVENT\n"
            ),
            "Backwards",
        ),
        (
            ics(
                "BEGIN:VEVENT\nUID:w@test\nDTSTART;VALUE=DATE:20260105\nRRULE:FREQ=WEEKLY\n"
                "SUMMARY:Weekly\nEND:VEVENT\n"
            ),
            "repeats",
        ),
    ],
)
def test_bad_ics_gives_a_validation_error(data, message):
    with pytest.raises(ValidationError, match=message):
        calendars.parse_ics(data)


@pytest.mark.django_db
def test_an_ics_with_overlapping_events_is_refused_and_nothing_is_saved():
    calendar = calendars.create_calendar(user=None, name="Feed")
    data = ics(
        all_day(dt.date(2026, 1, 1), "New Year", days=2), all_day(dt.date(2026, 1, 2), "Bridge")
    )
    with pytest.raises(ValidationError, match="overlap"):
        calendars.import_ics(calendar, data, user=None)
    assert not calendar.periods.exists()


# -- the scheduler skips blacked-out runs -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_inside_a_blackout_is_skipped_with_the_calendars_name(inline, make_task):
    calendar = today_calendar("Release freeze")
    blocked = make_task(due=ago(seconds=1), calendars=[calendar])
    free = make_task(due=ago(seconds=1))
    run_pass()
    log = TaskExecutionLog.objects.get(task=blocked)
    assert log.status == "skipped"
    assert "Release freeze" in log.error_message and "release freeze" in log.error_message
    assert not Execution.objects.filter(task_id=blocked.pk).exists()
    assert Execution.objects.filter(task_id=free.pk).count() == 1
    blocked.refresh_from_db()
    assert blocked.status == "pending" and blocked.next_run > timezone.now() - dt.timedelta(
        seconds=1
    )


@pytest.mark.django_db(transaction=True)
def test_a_run_in_an_imported_ics_holiday_is_skipped(inline, make_task):
    calendar = calendars.create_calendar(user=None, name="Imported holidays")
    today = timezone.now().astimezone(dt.UTC).date()
    added = calendars.import_ics(
        calendar, ics(all_day(today - dt.timedelta(days=1), "Long weekend", days=3)), user=None
    )
    assert added == 1
    task = make_task(due=ago(seconds=1), calendars=["Imported holidays"])
    run_pass()
    log = TaskExecutionLog.objects.get(task=task)
    assert log.status == "skipped" and "Imported holidays" in log.error_message
    assert "Long weekend" in log.error_message


@pytest.mark.django_db(transaction=True)
def test_periods_are_read_in_the_tasks_zone_unless_the_calendar_has_one(inline, make_task):
    # A period of "yesterday" in Pacific/Kiritimati (UTC+14) is still "today" nowhere near:
    # check through the preview helper with explicit instants.
    calendar = calendars.create_calendar(
        user=None, name="Local day", periods=[Period(dt.date(2026, 12, 25), dt.date(2026, 12, 25))]
    )
    berlin = make_task(calendars=[calendar], timezone="Europe/Berlin")
    # 23:30 UTC on the 24th is 00:30 on the 25th in Berlin.
    late_eve = dt.datetime(2026, 12, 24, 23, 30, tzinfo=dt.UTC)
    assert calendars.blackout_notes(berlin, [late_eve])[0] is not None
    utc_task = make_task(calendars=[calendar], timezone="UTC")
    assert calendars.blackout_notes(utc_task, [late_eve]) == [None]
    calendar.timezone = "Europe/Berlin"
    calendar.save()
    assert calendars.blackout_notes(utc_task, [late_eve])[0] is not None


@pytest.mark.django_db
def test_calendars_are_attached_and_changed_through_the_services(make_user, make_task):
    first = today_calendar("One")
    second = calendars.create_calendar(user=None, name="Two")
    owner = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    task = make_task(user=owner, calendars=[first.pk])
    assert list(task.calendars.all()) == [first]
    services.update(task, user=owner, calendars=["Two"])
    assert list(task.calendars.all()) == [second]
    event = task.audit_events.filter(action="edited").get()
    assert event.changes["calendars"] == [["One"], ["Two"]]
    with pytest.raises(ValidationError) as info:
        services.update(task, user=owner, calendars=["Nope"])
    assert "calendars" in info.value.message_dict


@pytest.mark.django_db
def test_the_admin_preview_flags_blacked_out_runs(make_task, admin_client):
    calendar = today_calendar("Preview freeze")
    task = make_task(calendars=[calendar], cron="0 * * * *")
    ScheduledTask.objects.filter(pk=task.pk).update(created_at=ago(days=1))
    page = admin_client.get(f"/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    assert page.status_code == 200
    assert "Preview freeze" in page.content.decode()


# -- the admin --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_creates_a_calendar_from_an_uploaded_ics(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "holidays.ics",
        ics(all_day(dt.date(2026, 12, 25), "Christmas", 2)).encode(),
        content_type="text/calendar",
    )
    response = admin_client.post(
        "/admin/scheduler_app/blackoutcalendar/add/",
        {
            "name": "Holidays",
            "description": "",
            "timezone": "Europe/Berlin",
            "ics_file": upload,
            **periods_formset(),
        },
    )
    assert response.status_code == 302
    calendar = BlackoutCalendar.objects.get(name="Holidays")
    assert [(p.label, p.start_date, p.end_date) for p in calendar.periods.all()] == [
        ("Christmas", dt.date(2026, 12, 25), dt.date(2026, 12, 26))
    ]


@pytest.mark.django_db
def test_the_admin_shows_bad_ics_and_overlapping_periods_as_errors(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        "/admin/scheduler_app/blackoutcalendar/add/",
        {
            "name": "Bad",
            "timezone": "",
            "ics_file": SimpleUploadedFile("x.ics", b"garbage"),
            **periods_formset(),
        },
    )
    assert response.status_code == 200 and "not a valid iCalendar" in response.content.decode()
    response = admin_client.post(
        "/admin/scheduler_app/blackoutcalendar/add/",
        {
            "name": "Overlap",
            "timezone": "",
            **periods_formset(
                rows=[
                    {"label": "A", "start_date": "2026-05-01", "end_date": "2026-05-03"},
                    {"label": "B", "start_date": "2026-05-03", "end_date": "2026-05-04"},
                    {"label": "C", "start_date": "2026-06-03", "end_date": "2026-06-01"},
                ]
            ),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "overlap" in page and "ends before it starts" in page
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
def test_the_task_admin_attaches_calendars_through_the_services(admin_client, make_task):
    from tests.test_admin import _change_data

    calendar = today_calendar("Attach me")
    task = make_task(name="t", cron="0 6 * * *")
    response = admin_client.post(
        f"/admin/scheduler_app/scheduledtask/{task.pk}/change/",
        _change_data(task, calendars=[str(calendar.pk)]),
    )
    assert response.status_code == 302
    assert list(task.calendars.all()) == [calendar]
    assert task.audit_events.get(action="edited").changes["calendars"] == [[], ["Attach me"]]


@pytest.mark.django_db
def test_the_scheduling_preview_flags_runs_of_the_chosen_calendars(admin_client):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    calendar = calendars.create_calendar(
        user=None, name="Tomorrow off", periods=[Period(tomorrow, tomorrow)]
    )
    answer = admin_client.get(
        "/scheduler/preview/",
        {
            "schedule_type": "cron",
            "cron": "0 12 * * *",
            "timezone": "UTC",
            "calendars": [str(calendar.pk)],
        },
    ).json()
    assert answer["valid"], answer
    flagged = [r for r in answer["runs"] if r["blackout"]]
    assert len(flagged) == 1 and "Tomorrow off" in flagged[0]["blackout"]
    assert flagged[0]["at"].startswith(tomorrow.isoformat())


@pytest.mark.django_db
def test_the_claims_link_query_finds_every_link_in_chunks(make_task, monkeypatch):
    from scheduler_app.models import sql

    monkeypatch.setattr(sql, "PER_STATEMENT", 2)  # five tasks: three statements
    first = BlackoutCalendar.objects.create(name="One")
    second = BlackoutCalendar.objects.create(name="Two")
    tasks = [make_task("noop") for _ in range(5)]
    tasks[0].calendars.set([first, second])
    tasks[3].calendars.set([second])
    ids = [t.pk for t in tasks]
    expected = set(
        ScheduledTask.calendars.through.objects.filter(scheduledtask_id__in=ids).values_list(
            "scheduledtask_id", "blackoutcalendar_id"
        )
    )
    assert set(calendars._links_of(ids)) == expected
    assert len(expected) == 3
    assert calendars._links_of([tasks[1].pk, tasks[2].pk]) == []

"""Reading .ics files: every malformed file is a clear ValidationError, bounded in size and count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduler_app.models import BlackoutCalendar
from scheduler_app.services import calendars
from scheduler_app.services.calendars import Period
from tests.ics_files import HEAD, TAIL, all_day, event, ics, periods_formset

ADD = "/admin/scheduler_app/blackoutcalendar/add/"


MALFORMED = {
    "a PERIOD start": (
        ics(event("DTSTART;VALUE=PERIOD:20260101T000000Z/20260102T000000Z", "SUMMARY:P")),
        "not a date or a date-time",
    ),
    "a PERIOD start with a duration": (
        ics(event("DTSTART;VALUE=PERIOD:20260101T000000Z/PT1H")),
        "not a date or a date-time",
    ),
    "a TIME start": (ics(event("DTSTART;VALUE=TIME:120000")), "not a date or a date-time"),
    "a TEXT start": (ics(event("DTSTART;VALUE=TEXT:hello")), "cannot be read"),
    "an empty start": (ics(event("DTSTART:")), "cannot be read"),
    "two starts": (
        ics(event("DTSTART:20260102T000000Z", "DTSTART:20260103T000000Z")),
        "more than one DTSTART",
    ),
    "two ends": (
        ics(event("DTSTART:20260102T000000Z", "DTEND:20260103T000000Z", "DTEND:20260104T000000Z")),
        "more than one DTEND",
    ),
    "no start": (ics(event("SUMMARY:Lost")), "no start"),
    "an end before the start": (
        ics(event("DTSTART:20260102T000000Z", "DTEND:20260101T000000Z")),
        "ends before it starts",
    ),
    "a negative duration": (
        ics(event("DTSTART:20260102T000000Z", "DURATION:-PT1H")),
        "ends before it starts",
    ),
    "a duration past year 9999": (
        ics(event("DTSTART:20260102T000000Z", "DURATION:P99999999W")),
        "lies outside",
    ),
    "an unreadable duration": (
        ics(event("DTSTART:20260102T000000Z", "DURATION:banana")),
        "DURATION that cannot be read",
    ),
    "an end and a duration": (
        ics(event("DTSTART:20260102T000000Z", "DTEND:20260102T010000Z", "DURATION:PT5H")),
        "both DTEND and DURATION",
    ),
    "year 9999": (ics(event("DTSTART:99991231T230000Z", "DURATION:PT2H")), "lies outside"),
    "year 1": (ics(event("DTSTART;VALUE=DATE:00010101")), "lies outside"),
    "an impossible date": (ics(event("DTSTART;VALUE=DATE:20261399")), "cannot be read"),
    "a date and a date-time": (
        ics(event("DTSTART;VALUE=DATE:20260102", "DTEND:20260103T000000Z")),
        "mixes a date and a date-time",
    ),
    "an endless RRULE": (
        ics(event("DTSTART:20260102T000000Z", "RRULE:FREQ=SECONDLY")),
        "repeats",
    ),
    "an exploding RRULE": (
        ics(event("DTSTART:20260102T000000Z", "RRULE:FREQ=SECONDLY;COUNT=999999999")),
        "repeats",
    ),
    "RDATE": (
        ics(event("DTSTART;VALUE=DATE:20260102", "RDATE;VALUE=DATE:20260105,20260107")),
        "repeats",
    ),
    "an unknown TZID": (
        ics(
            event(
                "DTSTART;TZID=Mars/Olympus:20260102T000000",
                "DTEND;TZID=Mars/Olympus:20260102T010000",
            )
        ),
        "does not define",
    ),
    "an empty VTIMEZONE": (
        HEAD
        + "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nEND:VTIMEZONE\r\n"
        + event("DTSTART;TZID=Custom:20260102T000000", "DTEND;TZID=Custom:20260102T010000")
        + TAIL,
        "not a valid iCalendar",
    ),
    "a VTIMEZONE offset of 99 hours": (
        HEAD + "BEGIN:VTIMEZONE\r\nTZID:W\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+9999\r\nTZOFFSETTO:-9999\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        + event("DTSTART;TZID=W:20260102T000000", "DTEND;TZID=W:20260102T010000")
        + TAIL,
        "not a valid iCalendar",
    ),
    "latin-1 text": (
        ics(event("DTSTART;VALUE=DATE:20260102", "SUMMARY:caf\xe9")).encode("latin-1"),
        "not UTF-8",
    ),
    "UTF-16 text": (ics(event("DTSTART;VALUE=DATE:20260102")).encode("utf-16"), "not UTF-8"),
    "binary": (bytes(range(256)) * 10, "not UTF-8"),
    "JSON": (b'{"a": 1}', "does not begin with BEGIN:VCALENDAR"),
    "an unclosed calendar": (HEAD + event("DTSTART;VALUE=DATE:20260102"), "not a valid iCalendar"),
    "two calendars": (ics(all_day(dt.date(2026, 1, 2), "A")) * 2, "not a valid iCalendar"),
    "only a to-do": (
        HEAD + "BEGIN:VTODO\r\nDTSTART:20260102T000000Z\r\nEND:VTODO\r\n" + TAIL,
        "no events",
    ),
    "an empty file": (b"   \r\n", "empty"),
    "deep nesting": (
        HEAD + "BEGIN:VEVENT\r\n" * 6000 + "END:VEVENT\r\n" * 6000 + TAIL,
        "6000 events",
    ),
    "deep calendars": ("BEGIN:VCALENDAR\r\n" * 60_000 + "END:VCALENDAR\r\n" * 60_000, "too many"),
}


@pytest.mark.parametrize("data, message", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_file_is_a_validation_error_naming_the_problem(data, message):
    with pytest.raises(ValidationError) as info:
        calendars.parse_ics(data)
    assert message in " ".join(info.value.messages)
    assert all(len(m) < 500 for m in info.value.messages)


def test_the_parsers_own_message_is_quoted_short_and_printable():
    garbage = HEAD + "BEGIN:VTIMEZONE\r\nTZID:" + "\x01" * 5000 + "\r\nEND:VTIMEZONE\r\n" + TAIL
    with pytest.raises(ValidationError) as info:
        calendars.parse_ics(garbage)
    assert all(len(m) < 400 and m.isprintable() for m in info.value.messages)


def test_a_bom_and_several_summaries_are_read():
    data = (
        b"\xef\xbb\xbf"
        + ics(event("DTSTART;VALUE=DATE:20260102", "SUMMARY:a", "SUMMARY:b")).encode()
    )
    assert calendars.parse_ics(data) == [
        Period(dt.date(2026, 1, 2), dt.date(2026, 1, 2), label="a")
    ]


def test_the_file_size_and_the_number_of_events_are_bounded_by_settings(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "CALENDAR_MAX_BYTES": 2000,
        "CALENDAR_MAX_PERIODS": 3,
    }
    four = ics(
        *(all_day(dt.date(2026, 1, 1) + dt.timedelta(days=2 * i), f"D{i}") for i in range(4))
    )
    with pytest.raises(ValidationError, match="4 events; a calendar holds at most 3"):
        calendars.parse_ics(four)
    with pytest.raises(ValidationError, match="larger than 2000 bytes"):
        calendars.parse_ics(ics(event("DTSTART;VALUE=DATE:20260102", "SUMMARY:" + "x" * 3000)))
    assert len(calendars.parse_ics(ics(all_day(dt.date(2026, 1, 1), "D")))) == 1


@pytest.mark.django_db
def test_a_calendar_never_holds_more_periods_than_the_setting(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "CALENDAR_MAX_PERIODS": 2}
    periods = [
        Period(
            dt.date(2026, 1, 1) + dt.timedelta(days=2 * i),
            dt.date(2026, 1, 1) + dt.timedelta(days=2 * i),
        )
        for i in range(3)
    ]
    with pytest.raises(ValidationError, match="at most 2 periods"):
        calendars.create_calendar(user=None, name="Three", periods=periods)
    calendar = calendars.create_calendar(user=None, name="Two", periods=periods[:2])
    with pytest.raises(ValidationError, match="at most 2 periods"):
        calendars.add_periods(calendar, periods[2:], user=None)
    assert (
        calendar.periods.count() == 2 and not BlackoutCalendar.objects.filter(name="Three").exists()
    )


@pytest.mark.django_db
def test_calendar_names_descriptions_and_zones_of_the_wrong_kind_are_field_errors():
    for kwargs, field in (
        ({"name": "x" * 121}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "description": "d" * 2001}, "description"),
        ({"name": "ok", "description": 5}, "description"),
        ({"name": "ok", "timezone": 5}, "timezone"),
    ):
        with pytest.raises(ValidationError) as info:
            calendars.create_calendar(user=None, **kwargs)
        assert field in info.value.message_dict
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("data, message", [MALFORMED["a PERIOD start"], MALFORMED["latin-1 text"]])
def test_the_admin_shows_a_malformed_file_as_a_form_error(admin_client, data, message):
    upload = SimpleUploadedFile("x.ics", data if isinstance(data, bytes) else data.encode())
    response = admin_client.post(
        ADD, {"name": "Bad", "timezone": "", "ics_file": upload, **periods_formset()}
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
def test_a_refused_file_creates_no_calendar_and_says_no_success(admin_client):
    overlapping = ics(
        all_day(dt.date(2026, 1, 1), "New Year", 2), all_day(dt.date(2026, 1, 2), "Bridge")
    )
    upload = SimpleUploadedFile("x.ics", overlapping.encode())
    response = admin_client.post(
        ADD, {"name": "Feed", "timezone": "", "ics_file": upload, **periods_formset()}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "overlap" in page
    assert "added successfully" not in page
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
def test_the_files_events_and_the_rows_are_checked_together(admin_client):
    upload = SimpleUploadedFile(
        "x.ics", ics(all_day(dt.date(2026, 5, 2), "From the file")).encode()
    )
    rows = [{"label": "Row", "start_date": "2026-05-01", "end_date": "2026-05-03"}]
    response = admin_client.post(
        ADD, {"name": "Both", "timezone": "", "ics_file": upload, **periods_formset(rows)}
    )
    assert response.status_code == 200 and "overlap" in response.content.decode()
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
def test_replacing_drops_the_rows_so_they_cannot_overlap_and_a_valid_file_is_saved(admin_client):
    calendar = calendars.create_calendar(
        user=None,
        name="Old",
        periods=[Period(dt.date(2026, 5, 1), dt.date(2026, 5, 3), label="Row")],
    )
    period = calendar.periods.get()
    upload = SimpleUploadedFile("x.ics", ics(all_day(dt.date(2026, 5, 2), "New")).encode())
    data = {
        "name": "Old",
        "timezone": "",
        "ics_file": upload,
        "replace_periods": "on",
        **periods_formset(
            [
                {
                    "id": str(period.pk),
                    "calendar": str(calendar.pk),
                    "label": "Row",
                    "start_date": "2026-05-01",
                    "end_date": "2026-05-03",
                }
            ]
        ),
        "periods-INITIAL_FORMS": "1",
    }
    response = admin_client.post(
        f"/admin/scheduler_app/blackoutcalendar/{calendar.pk}/change/", data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [p.label for p in calendar.periods.all()] == ["New"]


@pytest.mark.django_db
def test_the_admin_refuses_a_file_over_the_size_setting_before_reading_it(admin_client, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "CALENDAR_MAX_BYTES": 100}
    upload = SimpleUploadedFile("x.ics", ics(all_day(dt.date(2026, 5, 2), "Big")).encode())
    response = admin_client.post(
        ADD, {"name": "Big", "timezone": "", "ics_file": upload, **periods_formset()}
    )
    assert response.status_code == 200 and "larger than 100 bytes" in response.content.decode()
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
def test_plain_staff_do_not_see_calendars_in_the_admin(client, make_user):
    calendars.create_calendar(user=None, name="Secret merger freeze")
    client.force_login(make_user(is_staff=True))
    page = client.get("/admin/scheduler_app/blackoutcalendar/").content.decode()
    assert "Secret merger freeze" not in page


LINES = st.sampled_from(
    [
        "DTSTART;VALUE=DATE:20260102",
        "DTSTART:20260102T100000Z",
        "DTSTART;TZID=Europe/Berlin:20260102T100000",
        "DTSTART;VALUE=PERIOD:20260101T000000Z/PT1H",
        "DTEND;VALUE=DATE:20260104",
        "DTEND:20260101T000000Z",
        "DTEND:99991231T000000Z",
        "DURATION:PT3H",
        "DURATION:-P1D",
        "DURATION:P9999999W",
        "RRULE:FREQ=DAILY",
        "SUMMARY:Holiday",
        "SUMMARY;LANGUAGE=de:Feiertag",
        "X-ODD:\x00",
        "BEGIN:VALARM",
        "END:VALARM",
        "DTSTART;VALUE=TIME:101010",
    ]
)


@hypothesis_settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.lists(LINES, max_size=6), max_size=4), st.booleans())
def test_any_mix_of_event_lines_parses_or_is_a_validation_error(events, crlf):
    text = ics(*(event(*lines, uid=f"{i}@t") for i, lines in enumerate(events)))
    try:
        periods = calendars.parse_ics(text if crlf else text.replace("\r\n", "\n"))
    except ValidationError as exc:
        assert exc.messages
    else:
        assert len(periods) == len(events)

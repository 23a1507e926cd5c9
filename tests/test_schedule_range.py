"""Run times near year 1 and 9999, and intervals whose runs leave the calendar.

Anything from ``datetime.min`` to ``datetime.max``, in any zone or offset, with
any interval, is either a schedule (whose next runs can be listed) or a field
error; never an OverflowError or a 500. Through the services, the scheduling
page, its preview endpoint and the HTTP API.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from scheduler_app import schedules, services

pytestmark = pytest.mark.django_db

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin", "America/Adak"]
SCHEDULE_FIELDS = {"run_at", "interval", "timezone"}
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SOME = settings(PROPERTY, max_examples=40)

OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
TZINFOS = st.one_of(
    st.none(), st.just(dt.UTC), OFFSETS, st.sampled_from(ZONES).map(zoneinfo.ZoneInfo)
)
# The whole range, with the edges and the accepted bounds' neighbours drawn often.
EDGES = [
    dt.datetime.min,
    dt.datetime.max,
    dt.datetime(1, 1, 1, 0, 30),
    dt.datetime(9999, 12, 31, 23, 0),
    dt.datetime(1899, 12, 31, 23, 59),
    dt.datetime(1900, 1, 1),
    dt.datetime(9000, 12, 31, 23, 59),
    dt.datetime(9001, 1, 1),
]
NAIVE = st.one_of(st.datetimes(), st.sampled_from(EDGES))
RUN_ATS = st.builds(lambda d, tz: d if tz is None else d.replace(tzinfo=tz), NAIVE, TZINFOS)
UNITS = st.sampled_from(["minutes", "hours", "days", "weeks"])
INTERVALS = st.one_of(
    st.tuples(st.integers(1, 10**9), UNITS),
    st.tuples(st.integers(1, 60), UNITS),
    st.sampled_from([(3660, "days"), (522, "weeks"), (87840, "hours")]),
    st.integers(1, 10**12),
    st.timedeltas(min_value=dt.timedelta(minutes=1)).map(
        lambda d: dt.timedelta(minutes=max(1, d // dt.timedelta(minutes=1)))
    ),
)


def schedule_or_field_error(**kwargs):
    """The saved task, or None after a field error on a schedule field (anything else fails)."""
    try:
        return services.schedule(
            user=None, module="testmod", task_type="record", config={}, now=NOW, **kwargs
        )
    except ValidationError as exc:
        assert set(exc.message_dict) <= SCHEDULE_FIELDS, exc.message_dict
        return None


# -- the services -------------------------------------------------------------------------


@PROPERTY
@given(run_at=RUN_ATS, zone=st.sampled_from(ZONES), as_text=st.booleans())
def test_any_one_time_run_at_is_a_task_or_a_field_error(run_at, zone, as_text):
    value = run_at.isoformat() if as_text else run_at
    task = schedule_or_field_error(schedule_type="one_time", run_at=value, timezone=zone)
    if task is not None:
        assert schedules.run_at_in_range(task.run_at)
        assert services.next_runs(task=task, after=NOW) == [task.run_at]


@PROPERTY
@given(run_at=st.one_of(st.none(), RUN_ATS), interval=INTERVALS, zone=st.sampled_from(ZONES))
def test_any_recurring_schedule_is_a_task_or_a_field_error(run_at, interval, zone):
    task = schedule_or_field_error(
        schedule_type="recurring", run_at=run_at, interval=interval, timezone=zone
    )
    if task is not None:
        runs = services.next_runs(task=task, count=20, after=NOW)
        assert runs == sorted(runs) and all(run > NOW for run in runs)


@PROPERTY
@given(
    run_at=RUN_ATS,
    interval=st.one_of(st.none(), INTERVALS),
    after=st.one_of(st.none(), NAIVE.map(lambda d: d.replace(tzinfo=dt.UTC))),
    kind=st.sampled_from(["one_time", "recurring", "cron"]),
    zone=st.sampled_from(ZONES),
)
def test_previews_of_any_schedule_list_runs_or_give_a_field_error(
    run_at, interval, after, kind, zone
):
    arguments = {"cron": "*/7 * * * *"} if kind == "cron" else {"run_at": run_at}
    if kind == "recurring":
        arguments["interval"] = interval or (5, "minutes")
    try:
        runs = services.next_runs(kind, timezone=zone, count=10, after=after, **arguments)
    except ValidationError as exc:
        assert set(exc.message_dict) <= SCHEDULE_FIELDS | {"after"}, exc.message_dict
    else:
        assert runs == sorted(runs)


def test_the_accepted_range_is_said_in_the_error():
    with pytest.raises(ValidationError) as info:
        services.schedule(
            user=None,
            module="testmod",
            task_type="record",
            schedule_type="one_time",
            run_at="9999-12-31T23:59",
            timezone="Pacific/Kiritimati",
            now=NOW,
        )
    assert info.value.message_dict == {"run_at": ["Choose a time between 1970 and 2999."]}


@PROPERTY
@given(run_at=RUN_ATS, zone=st.sampled_from(ZONES))
def test_build_schedule_bounds_the_run_time_like_the_services(run_at, zone):
    """The edges that only build a schedule (previews, forms) get the same field error."""
    try:
        schedule = services.build_schedule("one_time", run_at=run_at, timezone=zone, now=NOW)
    except ValidationError as exc:
        assert set(exc.message_dict) == {"run_at"}
    else:
        assert schedules.run_at_in_range(schedule.run_at)
        schedules.planned_runs(schedule, NOW, 5)


def test_a_series_ends_where_the_calendar_ends():
    schedule = schedules.Schedule(
        "recurring",
        run_at=dt.datetime(9000, 12, 31, tzinfo=dt.UTC),
        interval_every=3660,
        interval_unit="days",
    )
    runs = schedule.runs_after(dt.datetime(9990, 1, 1, tzinfo=dt.UTC), 5)
    assert [run.astimezone(dt.UTC) for run in runs] == [dt.datetime(9993, 1, 19, tzinfo=dt.UTC)]


# -- the scheduling page and its preview -----------------------------------------------------


@pytest.fixture
def user(make_user):
    return make_user(*PERMS)


@pytest.fixture
def api(user, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}
    client = APIClient()
    client.force_login(user)
    return client


def page_text(value: dt.datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}"


@SOME
@given(
    run_at=NAIVE,
    kind=st.sampled_from(["one_time", "recurring"]),
    every=st.integers(1, 10**6),
    unit=UNITS,
    zone=st.sampled_from(ZONES),
)
def test_the_page_and_its_preview_answer_400_not_500(client, user, run_at, kind, every, unit, zone):
    client.force_login(user)
    data = {
        "name": "x",
        "schedule_type": kind,
        "run_at": page_text(run_at),
        "interval_every": str(every) if kind == "recurring" else "",
        "interval_unit": unit,
        "timezone": zone,
        "priority": "5",
        "max_retries": "1",
        "timeout": "60",
        "config-note": "",
    }
    preview = client.get(reverse("scheduler_app:preview"), data)
    assert preview.status_code in (200, 400)
    new = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})
    response = client.post(new, data)
    assert response.status_code in (302, 400)


# -- the HTTP API ------------------------------------------------------------------------------


@SOME
@given(
    run_at=RUN_ATS,
    kind=st.sampled_from(["one_time", "recurring"]),
    interval=st.tuples(st.integers(1, 10**9), UNITS),
    zone=st.sampled_from(ZONES),
)
def test_the_api_answers_201_or_400_for_any_run_time(api, run_at, kind, interval, zone):
    body = {
        "module": "testmod",
        "task_type": "record",
        "schedule_type": kind,
        "run_at": run_at.isoformat(),
        "timezone": zone,
        "config": {},
    }
    if kind == "recurring":
        body["interval"] = f"{interval[0]} {interval[1]}"
    response = api.post("/api/scheduler/tasks/", body, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert set(response.json()["errors"]) <= SCHEDULE_FIELDS
    else:
        task_id = response.json()["id"]
        assert api.get(f"/api/scheduler/tasks/{task_id}/").status_code == 200


@SOME
@given(zone=st.sampled_from(ZONES), count=st.integers(-5, 10**6))
def test_cron_validate_answers_200_or_400(api, zone, count):
    response = api.post(
        "/api/scheduler/cron/validate/",
        {"expression": "59 23 31 12 *", "timezone": zone, "count": count},
        format="json",
    )
    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("year", [1900, 1969, 3000, 9000])
def test_the_page_tells_the_services_range_on_the_run_time_field(client, user, year):
    # One range of run times: the page's field says what the services would say, not a
    # wider range of its own that the services then refuse with another sentence.
    client.force_login(user)
    new = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})
    response = client.post(
        new,
        {
            "name": "x",
            "schedule_type": "one_time",
            "run_at": f"{year:04d}-06-01T12:00",
            "timezone": "UTC",
            "priority": "5",
            "max_retries": "1",
            "timeout": "60",
            "config-note": "",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].options.errors["run_at"] == [
        "Choose a time between 1970 and 2999."
    ]

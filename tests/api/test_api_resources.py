"""modules/, cron/validate/, runs/{id}/, status/, stats/ and duplicate schedules (409)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django import forms
from django.contrib.auth.models import Group
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.api.formschema import config_schema, field_schema
from scheduler_app.models import RunStatus, ScheduledTask, SchedulerHeartbeat, TaskExecutionLog
from scheduler_app.policy import permissions
from tests.api.conftest import API, task_body

# --- modules/ ------------------------------------------------------------------------------


def test_modules_list_only_what_the_user_may_schedule(client_for, make_user, scheduler_user):
    data = client_for(scheduler_user).get(f"{API}modules/").json()
    assert [m["module"] for m in data] == ["testmod"]
    record = next(t for t in data[0]["task_types"] if t["task_type"] == "record")
    assert record["config_schema"]["properties"]["note"] == {"type": "string", "maxLength": 200}
    assert record["config_schema"]["properties"]["sleep"]["type"] == "number"
    assert client_for(make_user(permissions.SCHEDULER)).get(f"{API}modules/").json() == []
    admin = client_for(make_user(permissions.SCHEDULER_ADMIN)).get(f"{API}modules/").json()
    assert {"reports", "crm", "testmod", "http"} <= {m["module"] for m in admin}


def test_a_config_form_becomes_json_schema_with_the_choices_the_form_offers(db):
    Group.objects.create(name="ops")
    hidden = Group.objects.create(name="hidden")

    class TeamForm(forms.Form):
        team = forms.ModelChoiceField(
            queryset=Group.objects.exclude(pk=hidden.pk), help_text="Who hears of it."
        )
        days = forms.IntegerField(min_value=1, max_value=30, initial=7, label="Days")
        mode = forms.ChoiceField(choices=[("a", "All"), ("s", "Some")], required=False)
        kinds = forms.MultipleChoiceField(choices=[("x", "X")])
        when = forms.DateTimeField(required=False)
        loud = forms.BooleanField(required=False)
        token = forms.CharField(widget=forms.PasswordInput)

    class Task:
        config_form = TeamForm
        secret_fields = ("token",)

    schema = config_schema(Task)
    props = schema["properties"]
    assert schema["required"] == ["team", "days", "kinds", "token"]
    assert props["team"]["oneOf"] == [
        {"const": g.pk, "title": "ops"} for g in Group.objects.filter(name="ops")
    ]
    assert props["team"]["description"] == "Who hears of it."
    assert props["days"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 30,
        "title": "Days",
        "default": 7,
    }
    assert props["mode"]["oneOf"] == [
        {"const": "a", "title": "All"},
        {"const": "s", "title": "Some"},
    ]
    assert props["kinds"]["type"] == "array"
    assert props["when"]["format"] == "date-time"
    assert props["loud"]["type"] == "boolean"
    assert props["token"]["writeOnly"] and props["token"]["format"] == "password"


def test_long_choice_lists_are_cut(db):
    field = forms.ChoiceField(choices=[(n, str(n)) for n in range(600)])
    schema = field_schema(field)
    assert len(schema["oneOf"]) == 500 and schema["x-choices-truncated"]


# --- cron/validate/ ------------------------------------------------------------------------


def test_cron_validate_describes_and_lists_runs_with_dst_notes(api):
    with time_machine.travel("2026-03-27 12:00:00+00:00", tick=False):
        response = api.post(
            f"{API}cron/validate/",
            {"expression": "30 2 * * *", "timezone": "Europe/Berlin", "count": 3},
            format="json",
        )
    assert response.status_code == 200
    data = response.json()
    assert data["valid"] and data["description"] == "At 02:30 (Europe/Berlin)"
    assert [r["at"][:16] for r in data["next_runs"]] == [
        "2026-03-28T02:30",
        "2026-03-29T03:00",
        "2026-03-30T02:30",
    ]
    assert data["next_runs"][1]["dst"] == "moved" and data["next_runs"][1]["note"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expression": "61 * * * *"}, "expression"),
        ({"expression": "0 0 30 2 *"}, "expression"),
        ({"expression": "x" * 2000}, "expression"),
        ({"expression": "* * * * *", "timezone": "Nowhere/City"}, "timezone"),
        ({"expression": "* * * * *", "count": 10**9}, "count"),
        ({"expression": "* * * * *", "count": "five"}, "count"),
        ({"expression": "* * * * *", "zone": "UTC"}, "zone"),
        ({}, "expression"),
    ],
)
def test_cron_validate_refuses_bad_input_by_field(api, body, field):
    response = api.post(f"{API}cron/validate/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    expression=st.text(alphabet="0123456789*/,-LW#?@ abcdefghijklmnopqrstuvwxyz", max_size=40),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "bad"]),
)
def test_cron_validate_answers_200_or_400_for_any_expression(api, expression, zone):
    response = api.post(
        f"{API}cron/validate/", {"expression": expression, "timezone": zone}, format="json"
    )
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert response.json()["description"] and len(response.json()["next_runs"]) == 5


# --- runs/{id}/ ----------------------------------------------------------------------------


def test_a_run_shows_its_result_bounded_output_and_masks_secrets(client_for, make_user, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTPUT_LIMIT": 50}
    user = make_user(permissions.SCHEDULER_ADMIN)
    task = services.schedule(
        user=user,
        module="http",
        task_type="request",
        schedule_type="cron",
        cron="0 * * * *",
        config={"url": "https://example.com/hook", "secret_headers": "X-Api-Key: s3cr3t-value"},
    )
    log = TaskExecutionLog.objects.create(
        task=task,
        run_id="r1",
        scheduled_for=timezone.now(),
        status=RunStatus.FAILED,
        result={"sent": {"X-Api-Key": "s3cr3t-value"}, "rows": [1, 2]},
        error_message="401 for key s3cr3t-value",
        output="sending s3cr3t-value\n" + "x" * 100,
    )
    data = client_for(user).get(f"{API}runs/{log.pk}/").json()
    assert "s3cr3t-value" not in str(data)
    assert data["result"]["rows"] == [1, 2]
    assert data["output_truncated"] and len(data["output"]) <= 50
    task_data = client_for(user).get(f"{API}tasks/{task.pk}/").json()
    assert "s3cr3t-value" not in str(task_data)


def test_history_is_newest_first_and_paginated(api, make_task, scheduler_user):
    task = make_task(owner=scheduler_user)
    start = timezone.now()
    for n in range(5):
        TaskExecutionLog.objects.create(
            task=task,
            run_id=f"r{n}",
            scheduled_for=start + dt.timedelta(minutes=n),
            started_at=start + dt.timedelta(minutes=n),
            status=RunStatus.SUCCESS,
        )
    data = api.get(f"{API}tasks/{task.pk}/runs/?page_size=2").json()
    assert data["count"] == 5 and [r["run_id"] for r in data["results"]] == ["r4", "r3"]
    assert (
        api.get(f"{API}tasks/{task.pk}/runs/?page_size=2&page=3").json()["results"][0]["run_id"]
        == "r0"
    )


# --- status/ and stats/ --------------------------------------------------------------------


def test_status_reports_the_watchdog_for_visible_tasks(client_for, make_user, make_task):
    now = timezone.now()
    SchedulerHeartbeat.objects.create(
        host="worker-1", pid=1, started_at=now, finished_at=now - dt.timedelta(hours=1)
    )
    viewer = make_user(permissions.SCHEDULER)  # sees only the tasks they own
    mine = make_task(owner=viewer, due=now - dt.timedelta(hours=2))
    make_task("noop", due=now - dt.timedelta(hours=3))  # overdue too, but not the viewer's
    data = client_for(viewer).get(f"{API}status/").json()
    assert data["status"] == "unhealthy" and data["scheduler"]["silent"]
    assert [t["id"] for t in data["overdue"]["tasks"]] == [mine.pk]
    assert data["scheduler"]["last_pass_host"] is None
    admin = client_for(make_user(permissions.SCHEDULER_ADMIN)).get(f"{API}status/").json()
    assert admin["scheduler"]["last_pass_host"] == "worker-1"


def test_stats_count_tasks_and_runs_the_user_may_see(client_for, make_user, make_task):
    viewer = make_user(permissions.SCHEDULER, "scheduler_app.SA_TESTMOD")
    task = make_task(owner=viewer)
    make_task("noop", owner=viewer)
    services.pause(task, user=None)
    now = timezone.now()
    for n, (status, duration) in enumerate(
        [(RunStatus.SUCCESS, 1.0), (RunStatus.SUCCESS, 2.0), (RunStatus.FAILED, 10.0)]
    ):
        TaskExecutionLog.objects.create(
            task=task,
            run_id=f"r{n}",
            scheduled_for=now - dt.timedelta(minutes=n),
            started_at=now - dt.timedelta(minutes=n),
            status=status,
            duration=duration,
        )
    data = client_for(viewer).get(f"{API}stats/").json()
    assert data["tasks"]["total"] == 2 and data["tasks"]["by_status"]["paused"] == 1
    assert data["tasks"]["by_module"] == {"testmod": 2}
    runs = data["runs"]
    assert (runs["successes"], runs["failures"]) == (2, 1)
    assert runs["success_rate"] == pytest.approx(66.67)
    assert runs["p95_duration"] == 10.0
    nobody = client_for(make_user(permissions.SCHEDULER)).get(f"{API}stats/").json()
    assert nobody["tasks"]["total"] == 0 and nobody["runs"]["successes"] == 0


# --- duplicates ----------------------------------------------------------------------------


def test_a_duplicate_schedule_is_409_naming_the_task_unless_allowed(api, client_for, make_user):
    first = api.post(f"{API}tasks/", task_body(name="nightly"), format="json").json()
    response = api.post(f"{API}tasks/", task_body(), format="json")
    assert response.status_code == 409
    assert response.json()["existing"] == {"id": first["id"], "name": "nightly"}
    assert "nightly" in response.json()["detail"]
    assert ScheduledTask.objects.count() == 1
    assert (
        api.post(f"{API}tasks/", task_body(allow_duplicate=True), format="json").status_code == 201
    )
    # Not a duplicate: another config, another schedule, another zone.
    for change in ({"config": {"note": "other"}}, {"cron": "0 7 * * *"}, {"timezone": "UTC"}):
        assert api.post(f"{API}tasks/", task_body(**change), format="json").status_code == 201


def test_duplicates_are_found_only_among_tasks_the_user_can_see(client_for, make_user, make_task):
    stranger = make_user(permissions.SCHEDULER)
    make_task(owner=None, cron="0 6 * * *", timezone="Europe/Berlin", config={"note": "hello"})
    same = {
        "module": "testmod",
        "task_type": "record",
        "config": {"note": "hello"},
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "timezone_name": "Europe/Berlin",
    }
    assert services.find_duplicate(user=stranger, **same) is None
    found = services.find_duplicate(user=None, **same)
    assert found is not None
    services.cancel(found, user=None)
    assert services.find_duplicate(user=None, **same) is None


def test_tasks_firing_in_the_same_minute_are_listed(api, make_task, scheduler_user):
    a = make_task(owner=scheduler_user, cron="15 6 * * *", config={"note": "a"})
    b = make_task(owner=scheduler_user, cron="15 6 * * *", config={"note": "b"})
    make_task(owner=scheduler_user, cron="16 6 * * *")
    data = api.get(f"{API}tasks/{a.pk}/").json()
    assert [t["id"] for t in data["same_minute"]] == [b.pk]

"""tasks/: list, schedule, read, change, delete and actions; bad input is a clear 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.policy import permissions
from tests.api.conftest import API, task_body


def test_schedule_answers_201_with_next_runs_and_dst_notes(api, scheduler_user):
    response = api.post(
        f"{API}tasks/",
        task_body(cron="30 2 * * *", timezone="Europe/Berlin", name="nightly"),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    task = ScheduledTask.objects.get(pk=data["id"])
    assert (task.name, task.owner, task.config["note"]) == ("nightly", scheduler_user, "hello")
    assert data["schedule"] == "At 02:30 (Europe/Berlin)"
    assert len(data["next_runs"]) == 5
    assert all(set(run) == {"at", "dst", "note"} for run in data["next_runs"])
    assert "edit" in data["actions"]


def test_detail_flags_a_run_moved_by_the_spring_forward_gap(api, make_task, scheduler_user):
    task = make_task(cron="30 2 * * *", timezone="Europe/Berlin", owner=scheduler_user)
    import time_machine

    with time_machine.travel("2026-03-27 12:00:00+00:00", tick=False):
        data = api.get(f"{API}tasks/{task.pk}/").json()
    moved = [run for run in data["next_runs"] if run["dst"] == "moved"]
    assert len(moved) == 1 and moved[0]["at"].startswith("2026-03-29T03:00:00+02:00")
    assert "03:00" in moved[0]["note"]


def test_service_messages_come_back_as_field_errors_and_nothing_is_saved(api):
    cases = {
        "cron": (task_body(cron="61 * * * *"), "out of range for the minute field"),
        "timezone": (task_body(timezone="Mars/Olympus"), ""),
        "priority": (task_body(priority=11), "from 1 to 10"),
        "module": (task_body(module="nope"), "Unknown module"),
        "task_type": (task_body(task_type="nope"), "no task type"),
        "config.note": (task_body(config={"note": "x" * 201}), "at most 200"),
        "interval": (task_body(schedule_type="recurring", interval="5 fortnights"), "unit"),
        "run_at": (task_body(schedule_type="one_time", run_at="2001-01-01T00:00"), "past"),
        "tags": (task_body(tags=["Not A Tag!"]), "not a valid tag"),
        "name": (task_body(name="n" * 201), "to 200 characters"),
    }
    for field, (body, words) in cases.items():
        response = api.post(f"{API}tasks/", body, format="json")
        assert response.status_code == 400, (field, response.content)
        errors = response.json()["errors"]
        assert field in errors, (field, errors)
        assert words.lower() in " ".join(errors[field]).lower(), (field, errors)
    assert not ScheduledTask.objects.exists()


def test_a_cron_that_never_runs_is_refused(api):
    response = api.post(f"{API}tasks/", task_body(cron="0 0 30 2 *"), format="json")
    assert response.status_code == 400
    assert "never matches" in response.json()["errors"]["cron"][0]


def test_unknown_and_fixed_fields_are_refused_by_name(api, make_task, scheduler_user):
    response = api.post(f"{API}tasks/", task_body(colour="red", status="paused"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "colour": ["Unknown field."],
        "status": ["This field cannot be changed."],
    }
    response = api.post(f"{API}tasks/", task_body(config={"note": "x", "extra": 1}), format="json")
    assert response.json()["errors"] == {"config.extra": ["Unknown field."]}
    task = make_task(owner=scheduler_user)
    response = api.patch(
        f"{API}tasks/{task.pk}/", {"module": "x", "is_system": True}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"module", "is_system"}
    assert not ScheduledTask.objects.exclude(pk=task.pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": "high"}, "priority"),
        ({"priority": 10**30}, "priority"),
        ({"tags": "nightly"}, "tags"),
        ({"tags": [1, [2]]}, "tags.1"),
        ({"config": [1, 2]}, "config"),
        ({"allow_overlap": "perhaps"}, "allow_overlap"),
        ({"cron": 5 * "x" * 1000}, "cron"),
        ({"schedule_type": "sometimes"}, "schedule_type"),
        ({"on_success": [0]}, "on_success.0"),
    ],
)
def test_wrong_types_and_over_long_values_are_400(api, body, field):
    response = api.post(f"{API}tasks/", task_body(**body), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not ScheduledTask.objects.exists()


@pytest.mark.parametrize(
    "raw", ["{bad json", "[1, 2]", '"text"', "NaN", "{" * 5000 + "}" * 5000, "\xff"]
)
def test_malformed_json_is_400(api, raw):
    response = api.generic(
        "POST", f"{API}tasks/", raw.encode("latin-1"), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not ScheduledTask.objects.exists()


def test_a_body_over_the_limit_is_413_unread(api, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "API_MAX_BODY": 2048}
    body = json.dumps(task_body(name="x" * 3000))
    response = api.generic("POST", f"{API}tasks/", body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than 2048 bytes" in response.json()["detail"]
    assert not ScheduledTask.objects.exists()


def test_a_10_mb_body_is_413(api):
    body = json.dumps(task_body(name="x" * (10 * 1024 * 1024)))
    response = api.generic("POST", f"{API}tasks/", body, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not ScheduledTask.objects.exists()


def test_other_content_types_are_415(api):
    response = api.post(f"{API}tasks/", {"module": "testmod"})  # multipart form
    assert response.status_code == 415
    assert response.json()["detail"]


def test_page_size_is_bounded(api, make_task, scheduler_user):
    for _ in range(3):
        make_task(owner=scheduler_user, cron=f"{_} * * * *")
    assert api.get(f"{API}tasks/?page_size=2").json()["count"] == 3
    assert len(api.get(f"{API}tasks/?page_size=2").json()["results"]) == 2
    for bad in ("1000000000", "0", "-1", "abc", "9" * 40):
        response = api.get(f"{API}tasks/?page_size={bad}")
        assert response.status_code == 400 and "page_size" in response.json()["errors"]
    assert api.get(f"{API}tasks/?page=x").status_code == 400
    assert api.get(f"{API}tasks/?page=99").status_code == 404


def test_filters_search_and_ordering(api, make_task, make_user, scheduler_user):
    other = make_user(permissions.SCHEDULER, "scheduler_app.SA_TESTMOD")
    a = make_task(owner=scheduler_user, name="Alpha", tags=["nightly"], priority=3)
    b = make_task("noop", owner=scheduler_user, name="Beta", priority=1)
    c = make_task(owner=other, name="Gamma report")
    services.pause(b, user=None)

    def ids(query: str) -> list[int]:
        response = api.get(f"{API}tasks/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("task_type=noop") == [b.pk]
    assert ids("status=paused") == [b.pk]
    assert ids("tag=nightly") == [a.pk]
    assert ids(f"owner={other.username}") == [c.pk]
    assert ids("search=gamma") == [c.pk]
    assert ids("module=testmod&ordering=-name") == [c.pk, b.pk, a.pk]
    assert ids("ordering=priority")[:2] == [b.pk, a.pk]
    assert ids("module=othermod") == []
    for bad in ("status=sleeping", "ordering=config", "search=" + "x" * 201):
        assert api.get(f"{API}tasks/?{bad}").status_code == 400


def test_actions_go_through_the_services(api, make_task, scheduler_user):
    task = make_task(owner=scheduler_user)
    url = f"{API}tasks/{task.pk}/"
    response = api.post(url + "resume/")  # the services refuse it: the task is not paused
    assert response.status_code == 400 and response.json()["errors"]["status"]
    assert api.post(url + "pause/").json()["status"] == "paused"
    assert api.post(url + "resume/").json()["status"] == "pending"
    assert api.post(url + "run/").status_code == 200
    assert ScheduledTask.objects.get(pk=task.pk).run_requested
    assert api.post(url + "stop/").json()["errors"]["status"]
    log = TaskExecutionLog.objects.create(
        task=task, run_id="live", scheduled_for=task.next_run, status=RunStatus.RUNNING
    )
    response = api.post(url + "stop/")
    assert response.status_code == 202 and response.json()["run_id"] == "live"
    log.refresh_from_db()
    assert log.interrupt_requested_by == scheduler_user.username
    assert api.post(url + "cancel/").json()["status"] == "cancelled"


def test_patch_changes_and_revalidates(api, make_task, scheduler_user):
    task = make_task(owner=scheduler_user, timezone="UTC")
    url = f"{API}tasks/{task.pk}/"
    response = api.patch(url, {"cron": "*/10 * * * *", "tags": ["a", "b"]}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.cron_expression, task.tags) == ("*/10 * * * *", ["a", "b"])
    response = api.patch(url, {"cron": "nonsense"}, format="json")
    assert response.status_code == 400 and "cron" in response.json()["errors"]
    assert ScheduledTask.objects.get(pk=task.pk).cron_expression == "*/10 * * * *"


def test_delete_cancels_and_deletes(api, make_task, scheduler_user):
    task = make_task(owner=scheduler_user)
    assert api.delete(f"{API}tasks/{task.pk}/").status_code == 204
    assert not ScheduledTask.objects.filter(pk=task.pk).exists()
    assert api.delete(f"{API}tasks/{task.pk}/").status_code == 404


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "9" * 30, "1.5"])
def test_odd_ids_are_404(api, pk):
    assert api.get(f"{API}tasks/{pk}/").status_code == 404
    assert api.get(f"{API}runs/{pk}/").status_code == 404


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    [
        "module",
        "task_type",
        "schedule_type",
        "cron",
        "run_at",
        "interval",
        "timezone",
        "name",
        "priority",
        "config",
        "tags",
        "max_retries",
        "timeout",
        "misfire_grace",
        "on_success",
        "calendars",
        "event",
        "allow_duplicate",
        "unknown",
    ]
)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.dictionaries(FIELDS, JSON_VALUES, max_size=8))
def test_any_json_body_gets_a_json_4xx_or_a_201(api, body):
    response = api.post(f"{API}tasks/", body, format="json")
    assert response.status_code in (201, 400, 403, 409), (body, response.content)
    assert response["Content-Type"].startswith("application/json")
    if response.status_code != 201:
        assert "detail" in response.json()

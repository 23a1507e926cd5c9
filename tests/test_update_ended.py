"""services.update on an ended task (succeeded, failed, cancelled) never revives it.

An edit of other fields, or the same schedule sent again, leaves status and planning
as they are; a new schedule is stored but nothing is planned; only ``resume=True``
brings a succeeded or failed task back, on its (new) schedule counted from now.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from scheduler_app import services
from scheduler_app.models import ScheduledTask, TaskStatus

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
ENDED = [TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.CANCELLED]
PLANNING = ("status", "next_run", "occurrence_at", "retry_count", "enabled")
SCHEDULES = {
    "cron": {"schedule_type": "cron", "cron": "0 6 * * *", "timezone": "Europe/Berlin"},
    "one_time": {"schedule_type": "one_time", "run_at": NOW + dt.timedelta(hours=1)},
    "recurring": {"schedule_type": "recurring", "interval": (90, "minutes")},
    "event": {"schedule_type": "event", "event": "order.paid"},
}
OTHER_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(min_size=1, max_size=30).filter(str.strip),
        "priority": st.integers(1, 10),
        "max_retries": st.integers(0, 100),
        "timeout": st.integers(1, 3600),
        "tags": st.lists(st.sampled_from(["a", "b", "nightly"]), max_size=3),
        "allow_overlap": st.booleans(),
        "misfire_policy": st.sampled_from(["run_once", "skip", "run_all"]),
        "config": st.fixed_dictionaries({"note": st.text(max_size=20)}),
    },
)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def ended_task(kind: str, status: str, *, retry_count: int = 2) -> ScheduledTask:
    task = services.schedule(
        user=None, module="testmod", task_type="record", config={}, now=NOW, **SCHEDULES[kind]
    )
    values = {"status": status, "retry_count": retry_count}
    if status != TaskStatus.FAILED or kind == "one_time":
        values.update(next_run=None, occurrence_at=None)
    ScheduledTask.objects.filter(pk=task.pk).update(**values)
    task.refresh_from_db()
    return task


def planning(task: ScheduledTask) -> tuple:
    stored = ScheduledTask.objects.get(pk=task.pk)
    return tuple(getattr(stored, f) for f in PLANNING)


@PROPERTY
@given(
    kind=st.sampled_from(list(SCHEDULES)),
    status=st.sampled_from(ENDED),
    changes=OTHER_FIELDS,
    resend=st.booleans(),
)
def test_no_edit_revives_or_replans_an_ended_task(kind, status, changes, resend):
    task = ended_task(kind, status)
    before = planning(task)
    if resend:
        # The same schedule sent again, as an edge may (the interval as text).
        again = dict(task.schedule.arguments())
        if again.get("interval"):
            again["interval"] = "{} {}".format(*again["interval"])
        changes = {**changes, **again}
    services.update(task, user=None, now=NOW + dt.timedelta(days=3), **changes)
    assert planning(task) == before


@pytest.mark.parametrize("status", ENDED)
@pytest.mark.parametrize("kind", ["cron", "one_time", "recurring"])
def test_a_new_schedule_on_an_ended_task_is_stored_but_nothing_is_planned(kind, status):
    task = ended_task(kind, status)
    before = planning(task)
    new = {
        "cron": {"cron": "0 7 * * *"},
        "one_time": {"run_at": NOW + dt.timedelta(days=2)},
        "recurring": {"interval": (2, "hours")},
    }[kind]
    services.update(task, user=None, now=NOW, **new)
    assert planning(task) == before
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert stored.schedule.arguments()[next(iter(new))] in (
        next(iter(new.values())),
        (2, "hours"),
    )


@pytest.mark.parametrize("status", [TaskStatus.SUCCESS, TaskStatus.FAILED])
def test_resume_with_a_new_run_time_makes_a_finished_one_time_task_pending(status):
    task = ended_task("one_time", status)
    run_at = NOW + dt.timedelta(days=2)
    services.update(task, user=None, now=NOW, resume=True, run_at=run_at)
    assert planning(task) == (TaskStatus.PENDING, run_at, run_at, 0, True)


def test_resume_of_a_one_time_task_whose_time_has_passed_asks_for_a_new_time():
    task = ended_task("one_time", TaskStatus.SUCCESS)
    with pytest.raises(ValidationError) as info:
        services.update(task, user=None, now=NOW + dt.timedelta(days=1), resume=True)
    assert list(info.value.message_dict) == ["run_at"]
    assert planning(task)[0] == TaskStatus.SUCCESS


@pytest.mark.parametrize("kind", ["cron", "recurring"])
def test_resume_of_a_failed_repeating_task_plans_from_now(kind):
    task = ended_task(kind, TaskStatus.FAILED)
    later = NOW + dt.timedelta(days=10)
    services.update(task, user=None, now=later, resume=True)
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert stored.status == TaskStatus.PENDING and stored.retry_count == 0
    assert stored.next_run == stored.schedule.first_run(later, anchor=later)


@pytest.mark.parametrize(
    "status", [TaskStatus.CANCELLED, TaskStatus.PENDING, TaskStatus.PAUSED, TaskStatus.RUNNING]
)
def test_resume_is_refused_for_a_task_that_is_not_finished(status):
    task = ended_task("cron", status)
    before = planning(task)
    with pytest.raises(ValidationError) as info:
        services.update(task, user=None, now=NOW, resume=True, name="x")
    assert list(info.value.message_dict) == ["resume"]
    assert planning(task) == before


def test_the_same_schedule_sent_again_keeps_a_live_recurring_task_in_phase():
    task = services.schedule(
        user=None,
        module="testmod",
        task_type="record",
        config={},
        now=NOW,
        **SCHEDULES["recurring"],
    )
    before = planning(task)
    services.update(
        task, user=None, now=NOW + dt.timedelta(minutes=37), interval="90 minutes", name="x"
    )
    assert planning(task) == before


def test_an_api_edit_of_a_failed_task_leaves_it_failed(make_user, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}
    user = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    task = ended_task("cron", TaskStatus.FAILED)
    ScheduledTask.objects.filter(pk=task.pk).update(owner=user)
    before = planning(task)
    client = APIClient()
    client.force_login(user)
    response = client.patch(
        f"/api/scheduler/tasks/{task.pk}/",
        {"name": "renamed", "cron": "0 6 * * *", "timezone": "Europe/Berlin"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert planning(task) == before


def _api_owner(make_user, settings, task):
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}
    user = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    ScheduledTask.objects.filter(pk=task.pk).update(owner=user)
    client = APIClient()
    client.force_login(user)
    return client


def test_an_api_edit_with_resume_plans_a_failed_task_again(make_user, settings):
    task = ended_task("cron", TaskStatus.FAILED)
    client = _api_owner(make_user, settings, task)
    response = client.patch(
        f"/api/scheduler/tasks/{task.pk}/", {"resume": True, "name": "again"}, format="json"
    )
    assert response.status_code == 200, response.content
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert (stored.status, stored.name) == (TaskStatus.PENDING, "again")
    assert stored.next_run is not None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (TaskStatus.PENDING, {"resume": True}),  # not ended: nothing to resume
        (TaskStatus.CANCELLED, {"resume": True}),  # cancelled is for good
        (TaskStatus.FAILED, {"resume": "maybe"}),
    ],
)
def test_an_api_resume_that_cannot_be_is_a_400_on_the_field(make_user, settings, status, body):
    task = ended_task("cron", TaskStatus.FAILED)
    ScheduledTask.objects.filter(pk=task.pk).update(status=status)
    client = _api_owner(make_user, settings, task)
    before = planning(task)
    response = client.patch(f"/api/scheduler/tasks/{task.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert "resume" in response.json()["errors"]
    assert planning(task) == before

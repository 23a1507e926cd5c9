"""The task history: every service writes who did what, and when."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from scheduler_app import services
from scheduler_app.models import AuditAction, RunStatus, TaskAuditEvent, TaskExecutionLog
from scheduler_app.policy import permissions
from scheduler_app.services import audit
from tests.test_permissions_roles import BASE


@pytest.fixture
def owner(make_user):
    return make_user(permissions.SCHEDULER, BASE, username="olivia")


@pytest.fixture
def task(owner, now):
    return services.schedule(
        user=owner,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        config={"note": "a"},
        now=now,
    )


def actions_of(task) -> list[str]:  # noqa: ANN001
    return [e.action for e in audit.history(task)]


def test_creating_a_task_is_recorded_with_its_author(task, owner, now):
    event = audit.history(task).get()
    assert (event.action, event.actor, event.actor_name, event.at) == (
        AuditAction.CREATED,
        owner,
        "olivia",
        now,
    )
    assert task.created_by == owner and task.updated_by == owner


def test_each_service_records_its_action_and_actor(task, owner, make_user):
    admin = make_user(permissions.SCHEDULER_ADMIN, username="ada")
    friend = make_user(username="fred")
    services.pause(task, user=owner)
    services.resume(task, user=admin)
    services.run_now(task, user=owner)
    services.update(task, user=owner, name="renamed", config={"note": "b"})
    services.share(task, user=owner, users=[friend], permissions=["view", "run"])
    services.unshare(task, user=admin, users=[friend])
    services.cancel(task, user=None)
    events = list(audit.history(task))[::-1]
    assert [(e.action, e.actor_name) for e in events] == [
        ("created", "olivia"),
        ("paused", "olivia"),
        ("resumed", "ada"),
        ("run_requested", "olivia"),
        ("edited", "olivia"),
        ("shared", "olivia"),
        ("unshared", "ada"),
        ("cancelled", ""),
    ]
    edited = events[4]
    assert edited.changes == {"name": ["Record an execution", "renamed"], "config.note": ["a", "b"]}
    assert events[5].changes == {"users": ["fred"], "groups": [], "permissions": ["run", "view"]}
    assert task.updated_by is None  # the system cancelled it last


def test_an_edit_that_changes_nothing_writes_no_event(task, owner):
    services.update(task, user=owner, name=task.name)
    assert actions_of(task) == ["created"]


def test_a_refused_action_writes_no_event(task, make_user):
    with pytest.raises(PermissionDenied):
        services.pause(task, user=make_user())
    assert actions_of(task) == ["created"]


def test_history_outlives_the_task(task, owner):
    pk = task.pk
    services.delete(task, user=owner)
    assert [e.action for e in audit.history(pk)] == ["deleted", "created"]
    assert TaskAuditEvent.objects.filter(task_ref=pk, task__isnull=True).count() == 2


def test_the_timeline_merges_runs_and_events_newest_first(task, owner, now):
    TaskExecutionLog.objects.create(
        task=task,
        run_id="r",
        scheduled_for=now,
        started_at=now + dt.timedelta(minutes=5),
        status=RunStatus.FAILED,
        error_message="<b>boom</b>",
    )
    services.pause(task, user=owner)  # at the real now, after both
    entries = audit.timeline(task)
    assert [(e.kind, e.action) for e in entries] == [
        ("audit", "paused"),
        ("run", "failed"),
        ("audit", "created"),
    ]
    assert entries[1].summary == "Run #1: Failed: <b>boom</b>"  # escaping is the template's job
    assert entries[0].at <= timezone.now()


def test_task_history_checks_view_history(task, owner, make_user):
    assert services.task_history(task, user=owner)
    assert services.task_history(task, user=make_user(permissions.SCHEDULER_VIEW))
    with pytest.raises(PermissionDenied):
        services.task_history(task, user=make_user(permissions.SCHEDULER))


def test_history_is_two_queries_whatever_its_length(task, owner, django_assert_num_queries):
    for _ in range(5):
        services.pause(task, user=owner)
        services.resume(task, user=owner)
    with django_assert_num_queries(2):
        entries = audit.timeline(task)
        names = [e.actor_name for e in entries]
    assert len(names) == 11

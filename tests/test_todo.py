"""The Todo module: its events, reminders, milestone alerts, escalations and digests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from project.todo.models import Goal, TeamMember, Todo, TodoStatus
from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import (
    Notification,
    PendingEvent,
    RunStatus,
    ScheduledTask,
    TaskExecutionLog,
)
from scheduler_app.registry import registry

TODO_USER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TODO")


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def lead(make_user):
    return make_user(*TODO_USER, username="lead", email="lead@example.com")


@pytest.fixture
def dev(make_user):
    return make_user(username="dev", email="dev@example.com")


@pytest.fixture
def team(db, lead, dev):
    group = Group.objects.create(name="platform")
    lead.groups.add(group)
    dev.groups.add(group)
    return group


def schedule(user, task_type: str, config: dict | None = None, **kwargs) -> ScheduledTask:
    kwargs.setdefault("schedule_type", "cron")
    kwargs.setdefault("cron", "0 * * * *")
    return services.schedule(
        user=user, module="todo", task_type=task_type, config=config or {}, **kwargs
    )


def due_now(task: ScheduledTask) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)


def inbox(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user).order_by("pk").values_list("subject", flat=True)
    )


def hours(n: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=n)


def test_provider_offers_its_task_types_and_permission(db):
    assert set(registry.get("todo").task_types) == {
        "deadline_reminder",
        "goal_milestone_alert",
        "overdue_escalation",
        "team_digest",
    }
    assert Permission.objects.filter(codename__in=["SA_TODO", "SA_TODO_ADMIN"]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_deadline_reminder_reminds_assignees_once(lead, dev):
    soon = Todo.objects.create(title="Ship it", assignee=dev, due_at=hours(3))
    Todo.objects.create(title="Next month", assignee=dev, due_at=hours(24 * 30))
    Todo.objects.create(title="Done", assignee=dev, due_at=hours(2), status=TodoStatus.DONE)
    task = schedule(
        lead, "deadline_reminder", {"hours_before": 24, "channels": ["email", "in_app"]}
    )
    for _ in range(2):
        due_now(task)
        run_pass(PassOptions())
    assert inbox(dev) == ["Due soon: 1 todo(s)"]
    [message] = mail.outbox
    assert message.to == ["dev@example.com"] and "Ship it" in message.body
    assert "Next month" not in message.body
    soon.refresh_from_db()
    assert soon.reminded_at is not None


@pytest.mark.django_db(transaction=True)
def test_overdue_escalation_goes_to_the_manager_else_the_team_else_the_fallback(
    lead, dev, team, make_user
):
    boss = make_user(username="boss")
    TeamMember.objects.create(user=dev, manager=boss)
    loner = make_user(username="loner")
    ops = Group.objects.create(name="ops")
    oncall = make_user(username="oncall")
    oncall.groups.add(ops)
    managed = Todo.objects.create(title="Managed", assignee=dev, due_at=hours(-48))
    teamed = Todo.objects.create(title="Teamed", assignee=lead, team=team, due_at=hours(-48))
    alone = Todo.objects.create(title="Alone", assignee=loner, due_at=hours(-48))
    Todo.objects.create(title="Within grace", assignee=dev, due_at=hours(-2))
    task = schedule(lead, "overdue_escalation", {"grace_hours": 24, "fallback_group": ops.pk})
    due_now(task)
    run_pass(PassOptions())

    assert inbox(boss) == ["Overdue: Managed (dev)"]
    assert inbox(dev) == ["Overdue: Teamed (lead)"]  # the team, without the assignee
    assert inbox(oncall) == ["Overdue: Alone (loner)"]
    assert inbox(lead) == [] and inbox(loner) == []
    escalated = set(Todo.objects.filter(escalated_at__isnull=False).values_list("pk", flat=True))
    assert escalated == {managed.pk, teamed.pk, alone.pk}

    due_now(task)
    run_pass(PassOptions())  # each todo escalates once
    assert Notification.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_completing_a_todo_emits_its_event_once_after_commit(lead, dev):
    listener = schedule(
        lead,
        "goal_milestone_alert",
        {"milestones": "50"},
        schedule_type="event",
        event="todo.todo.completed",
        cron=None,
    )
    todo = Todo.objects.create(title="Write tests", assignee=dev)
    todo.complete()
    todo.complete()
    Todo.objects.get(pk=todo.pk).save()
    assert list(
        PendingEvent.objects.filter(task=listener).values_list("payload__todo", flat=True)
    ) == [todo.pk]


@pytest.mark.django_db(transaction=True)
def test_goal_milestones_alert_owner_and_team_once_each_on_the_progress_event(lead, dev, team):
    goal = Goal.objects.create(title="Migrate services", owner=lead, team=team, target=4)
    alert = schedule(
        lead,
        "goal_milestone_alert",
        {"milestones": "50, 100"},
        schedule_type="event",
        event="todo.goal.progressed",
        cron=None,
    )
    todos = [Todo.objects.create(title=f"Service {n}", assignee=dev, goal=goal) for n in range(4)]

    todos[0].complete()  # 25%: below every milestone
    run_pass(PassOptions())
    todos[1].complete()  # 50%
    run_pass(PassOptions())
    todos[2].complete()  # 75%: nothing new
    run_pass(PassOptions())
    todos[3].complete()  # 100%
    run_pass(PassOptions())

    assert inbox(lead) == [
        "Goal Migrate services: 50% reached",
        "Goal Migrate services: 100% reached",
    ]
    assert inbox(dev) == inbox(lead)
    goal.refresh_from_db()
    assert (goal.progress, goal.last_milestone) == (4, 100)
    runs = TaskExecutionLog.objects.filter(task=alert)
    assert runs.count() == 4 and set(runs.values_list("status", flat=True)) == {RunStatus.SUCCESS}


def test_milestones_are_validated(lead):
    for bad in ("", "fifty", "0, 50", "150"):
        with pytest.raises(ValidationError) as caught:
            schedule(lead, "goal_milestone_alert", {"milestones": bad})
        assert "milestones" in caught.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_team_digest_sends_each_member_the_team_todos(lead, dev, team, make_user):
    outsider = make_user(username="outsider", email="out@example.com")
    Todo.objects.create(title="Late one", team=team, assignee=dev, due_at=hours(-5))
    Todo.objects.create(title="Coming up", team=team, assignee=lead, due_at=hours(30))
    Todo.objects.create(
        title="Finished", team=team, assignee=dev, status=TodoStatus.DONE, done_at=hours(-10)
    )
    Todo.objects.create(title="Other team", assignee=outsider, due_at=hours(-5))
    task = schedule(
        lead, "team_digest", {"team": team.pk, "days": 7, "channels": ["email"]}, cron="0 8 * * 1"
    )
    due_now(task)
    run_pass(PassOptions())

    assert sorted(m.to[0] for m in mail.outbox) == ["dev@example.com", "lead@example.com"]
    body = mail.outbox[0].body
    assert "Late one" in body and "Coming up" in body and "Finished" in body
    assert "Other team" not in body
    assert mail.outbox[0].subject == "platform digest: 1 overdue, 1 due soon, 1 done"
    html = mail.outbox[0].alternatives[0]
    assert html[1] == "text/html" and "Late one" in html[0]

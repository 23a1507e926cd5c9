"""Todo demo data: a team lead and a developer, a team, a goal, todos and Todo schedules. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from project.reports.demo import DemoUser, seed_users
from project.todo.models import Goal, TeamMember, Todo
from scheduler_app import services
from scheduler_app.models import ScheduledTask

MODULE_ID = "todo"
TEAM = "Platform team"

USERS = [
    DemoUser(
        "team_lead",
        "demo",
        "schedules Todo tasks, manages the platform team",
        perms=(
            "scheduler_app.SA_SCHEDULER",
            "scheduler_app.SA_TODO",
            "todo.view_todo",
            "todo.change_todo",
            "todo.view_goal",
        ),
    ),
    DemoUser(
        "developer",
        "demo",
        "has todos; gets reminders in the app",
        perms=("todo.view_todo", "todo.view_goal"),
    ),
]


def _tasks(team: Group) -> list[tuple[str, str, dict, dict]]:
    """(name, task type, schedule, config) of the demo schedules, owned by team_lead."""
    return [
        (
            "Deadline reminders",
            "deadline_reminder",
            {"schedule_type": "recurring", "interval": "1 hours"},
            {"hours_before": 24, "channels": ["in_app"]},
        ),
        (
            "Goal milestones",
            "goal_milestone_alert",
            {"schedule_type": "event", "event": "todo.goal.progressed"},
            {"milestones": [25, 50, 75, 100], "channels": ["in_app"]},
        ),
        (
            "Platform team digest",
            "team_digest",
            {"schedule_type": "cron", "cron": "0 8 * * 1", "timezone": "Europe/Berlin"},
            {"team": team.pk, "days": 7, "channels": ["email", "in_app"]},
        ),
        (
            "Escalate overdue todos",
            "overdue_escalation",
            {"schedule_type": "cron", "cron": "30 8 * * 1-5", "timezone": "Europe/Berlin"},
            {"grace_hours": 24, "channels": ["in_app", "email"]},
        ),
    ]


def seed_data(users: dict, now: dt.datetime) -> Group:
    lead, dev = users["team_lead"], users["developer"]
    team, _ = Group.objects.get_or_create(name=TEAM)
    lead.groups.add(team)
    dev.groups.add(team)
    TeamMember.objects.update_or_create(user=dev, defaults={"manager": lead, "team": team})
    TeamMember.objects.update_or_create(user=lead, defaults={"team": team})
    goal, _ = Goal.objects.get_or_create(
        title="Move to PostgreSQL 18", defaults={"owner": lead, "team": team, "target": 4}
    )
    for title, hours, assignee in (
        ("Upgrade staging", 6, dev),
        ("Rehearse the switch-over", 48, dev),
        ("Update the runbook", -30, dev),
        ("Book the maintenance window", 20, lead),
    ):
        Todo.objects.get_or_create(
            title=title,
            defaults={
                "assignee": assignee,
                "team": team,
                "goal": goal,
                "due_at": now + dt.timedelta(hours=hours),
            },
        )
    return team


def seed_tasks(users: dict, team: Group, now: dt.datetime) -> list[ScheduledTask]:
    created = []
    for name, task_type, schedule, config in _tasks(team):
        if ScheduledTask.objects.filter(module_id=MODULE_ID, name=name).exists():
            continue
        created.append(
            services.schedule(
                user=users["team_lead"],
                module=MODULE_ID,
                task_type=task_type,
                name=name,
                config=config,
                tags=["demo"],
                now=now,
                **schedule,
            )
        )
    escalate = ScheduledTask.objects.filter(
        module_id=MODULE_ID, name="Escalate overdue todos"
    ).first()
    digest = ScheduledTask.objects.filter(module_id=MODULE_ID, name="Platform team digest").first()
    if escalate and digest and not escalate.on_success.exists():
        # A chain: after each escalation round the team gets the digest as well.
        services.update(escalate, user=users["team_lead"], on_success=[digest.pk], now=now)
    return created


def seed(now: dt.datetime | None = None) -> tuple[dict, list[ScheduledTask]]:
    """Create the Todo demo users, data and schedules that are missing."""
    now = now or timezone.now()
    with transaction.atomic():
        users = seed_users(USERS)
        team = seed_data(users, now)
        tasks = seed_tasks(users, team, now)
    return users, tasks

"""Demo data: users with roles, a few reports and scheduled report tasks. Idempotent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from project.reports.models import Report, ReportSource
from scheduler_app import services
from scheduler_app.models import ScheduledTask

MODULE_ID = "reports"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    superuser: bool = False
    perms: tuple[str, ...] = ()


USERS = [
    DemoUser("admin", "admin", "superuser: everything", superuser=True),
    DemoUser(
        "scheduler_admin",
        "demo",
        "scheduler admin: all tasks of all modules",
        perms=("scheduler_app.SA_SCHEDULER_ADMIN", "reports.view_report"),
    ),
    DemoUser(
        "reports_user",
        "demo",
        "schedules report tasks, sees all report tasks",
        perms=("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS", "reports.view_report"),
    ),
    DemoUser(
        "reports_admin",
        "demo",
        "administers all report tasks and the reports",
        perms=(
            "scheduler_app.SA_REPORTS_ADMIN",
            "reports.add_report",
            "reports.change_report",
            "reports.delete_report",
            "reports.view_report",
        ),
    ),
    DemoUser(
        "viewer",
        "demo",
        "sees every task, changes nothing",
        perms=("scheduler_app.SA_SCHEDULER_VIEW",),
    ),
]

REPORTS = [
    {
        "name": "User list",
        "source": ReportSource.USERS,
        "description": "Every user account with its roles and last login.",
    },
    {
        "name": "Scheduled tasks",
        "source": ReportSource.SCHEDULED_TASKS,
        "description": "All scheduled tasks with their status and next run.",
    },
    {
        "name": "Weekly run summary",
        "source": ReportSource.RUN_SUMMARY,
        "period_days": 7,
        "description": "Task runs of the last seven days by module, task type and status.",
    },
]


@dataclass(frozen=True)
class DemoTask:
    name: str
    owner: str
    task_type: str
    report: str
    schedule: dict
    config: dict = field(default_factory=dict)
    due_now: bool = False


TASKS = [
    DemoTask(
        "First user list",
        "reports_user",
        "generate_report",
        "User list",
        {"schedule_type": "one_time"},
        due_now=True,
    ),
    DemoTask(
        "Nightly user list",
        "reports_user",
        "generate_report",
        "User list",
        {"schedule_type": "cron", "cron": "0 2 * * *", "timezone": "Europe/Berlin"},
    ),
    DemoTask(
        "Weekly run summary to the team",
        "reports_user",
        "email_report",
        "Weekly run summary",
        {"schedule_type": "cron", "cron": "0 8 * * 1", "timezone": "Europe/Berlin"},
        config={"recipients": "team@example.com, ops@example.com"},
        due_now=True,
    ),
    DemoTask(
        "Hourly task export",
        "reports_admin",
        "export_report",
        "Scheduled tasks",
        {"schedule_type": "recurring", "interval": "1 hours"},
        config={"path": "exports/{date}/scheduled-tasks.csv"},
    ),
]


def _permission(full_name: str) -> Permission:
    app_label, codename = full_name.split(".", 1)
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist:
        raise ImproperlyConfigured(
            f"Permission {full_name} does not exist yet: run “manage.py migrate” first."
        ) from None


def seed_users(specs: list[DemoUser] | None = None) -> dict[str, object]:
    """Create or reset the demo users (``specs``, default USERS); return them by username."""
    User = get_user_model()
    users = {}
    for spec in USERS if specs is None else specs:
        user = User.objects.filter(username=spec.username).first() or User(username=spec.username)
        user.email = f"{spec.username}@example.com"
        user.is_staff = True
        user.is_active = True
        user.is_superuser = spec.superuser
        user.set_password(spec.password)
        user.save()
        user.user_permissions.add(*[_permission(p) for p in spec.perms])
        users[spec.username] = User.objects.get(pk=user.pk)  # fresh permission caches
    return users


def seed_reports() -> dict[str, Report]:
    reports = {}
    for spec in REPORTS:
        values = dict(spec)
        name = values.pop("name")
        reports[name], _ = Report.objects.update_or_create(name=name, defaults=values)
    return reports


def seed_tasks(users: dict, reports: dict[str, Report], now: dt.datetime) -> list[ScheduledTask]:
    """Schedule the demo tasks that do not exist yet, through the services (as their owners)."""
    created = []
    for spec in TASKS:
        owner = users[spec.owner]
        if ScheduledTask.objects.filter(
            module_id=MODULE_ID, task_type=spec.task_type, name=spec.name
        ).exists():
            continue
        schedule = dict(spec.schedule)
        if schedule["schedule_type"] == "one_time":
            schedule["run_at"] = now + dt.timedelta(minutes=1)
        task = services.schedule(
            user=owner,
            module=MODULE_ID,
            task_type=spec.task_type,
            name=spec.name,
            config={**spec.config, "report": reports[spec.report].pk},
            tags=["demo"],
            now=now,
            **schedule,
        )
        if spec.due_now:
            task = services.run_now(task, user=owner, now=now)
        created.append(task)
    return created


def seed(now: dt.datetime | None = None) -> tuple[dict, dict[str, Report], list[ScheduledTask]]:
    """Create every piece of demo data that is missing; safe to run again."""
    now = now or timezone.now()
    with transaction.atomic():
        users = seed_users()
        reports = seed_reports()
        tasks = seed_tasks(users, reports, now)
    return users, reports, tasks

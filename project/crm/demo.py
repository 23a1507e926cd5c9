"""CRM demo data: a sales user, contacts, opportunities, a meeting and CRM schedules. Idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from project.crm.models import Contact, Meeting, Opportunity
from project.reports.demo import DemoUser, seed_users
from scheduler_app import services
from scheduler_app.models import ScheduledTask

MODULE_ID = "crm"
CRM_VIEW = ("crm.view_contact", "crm.view_opportunity", "crm.view_meeting")

USERS = [
    DemoUser(
        "sales",
        "demo",
        "schedules CRM tasks, sees all CRM tasks",
        perms=(
            "scheduler_app.SA_SCHEDULER",
            "scheduler_app.SA_CRM",
            *CRM_VIEW,
            "crm.change_opportunity",
        ),
    ),
    DemoUser(
        "sales_admin",
        "demo",
        "administers all CRM tasks and the CRM data",
        perms=(
            "scheduler_app.SA_CRM_ADMIN",
            *CRM_VIEW,
            "crm.add_contact",
            "crm.change_contact",
            "crm.add_opportunity",
            "crm.change_opportunity",
            "crm.add_meeting",
            "crm.change_meeting",
        ),
    ),
]

# name, schedule, config; owned by "sales".
TASKS = [
    (
        "Meeting reminders",
        {"schedule_type": "recurring", "interval": "15 minutes"},
        {"minutes_before": 60, "channels": ["in_app", "email"]},
    ),
    (
        "Follow up quiet opportunities",
        {"schedule_type": "cron", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"},
        {"quiet_days": 7, "channels": ["in_app"]},
    ),
    (
        "Re-engage inactive customers",
        {"schedule_type": "conditional", "cron": "0 10 * * 1-5", "timezone": "Europe/Berlin"},
        {"inactive_days": 30, "channels": ["in_app", "email"]},
    ),
    (
        "Announce wins",
        {"schedule_type": "event", "event": "crm.opportunity.won"},
        {"channels": ["in_app"]},
    ),
]
TASK_TYPES = {
    "Meeting reminders": "meeting_reminder",
    "Follow up quiet opportunities": "follow_up",
    "Re-engage inactive customers": "reengage_inactive",
    "Announce wins": "announce_win",
}


def seed_data(users: dict, now: dt.datetime) -> None:
    sales = users["sales"]
    ada, _ = Contact.objects.get_or_create(
        name="Ada Lovelace",
        defaults={
            "company": "Analytical Engines",
            "email": "ada@example.com",
            "owner": sales,
            "last_activity_at": now - dt.timedelta(days=2),
        },
    )
    grace, _ = Contact.objects.get_or_create(
        name="Grace Hopper",
        defaults={
            "company": "Compilers Inc.",
            "email": "grace@example.com",
            "owner": sales,
            "last_activity_at": now - dt.timedelta(days=45),
        },
    )
    Opportunity.objects.get_or_create(
        title="Engine licence",
        defaults={
            "contact": ada,
            "owner": sales,
            "amount": Decimal("12000"),
            "last_activity_at": now - dt.timedelta(days=1),
        },
    )
    Opportunity.objects.get_or_create(
        title="Compiler support",
        defaults={
            "contact": grace,
            "owner": sales,
            "amount": Decimal("4500"),
            "last_activity_at": now - dt.timedelta(days=10),
        },
    )
    meeting, created = Meeting.objects.get_or_create(
        title="Licence negotiation",
        defaults={
            "contact": ada,
            "organizer": sales,
            "starts_at": now + dt.timedelta(minutes=50),
            "location": "Video call",
        },
    )
    if created:
        meeting.attendees.add(sales, users["sales_admin"])


def seed_tasks(users: dict, now: dt.datetime) -> list[ScheduledTask]:
    created = []
    for name, schedule, config in TASKS:
        if ScheduledTask.objects.filter(module_id=MODULE_ID, name=name).exists():
            continue
        created.append(
            services.schedule(
                user=users["sales"],
                module=MODULE_ID,
                task_type=TASK_TYPES[name],
                name=name,
                config=config,
                tags=["demo"],
                now=now,
                **schedule,
            )
        )
    return created


def seed(now: dt.datetime | None = None) -> tuple[dict, list[ScheduledTask]]:
    """Create the CRM demo users, data and schedules that are missing."""
    now = now or timezone.now()
    with transaction.atomic():
        users = seed_users(USERS)
        seed_data(users, now)
        tasks = seed_tasks(users, now)
    return users, tasks

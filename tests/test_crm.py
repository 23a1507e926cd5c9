"""The CRM module: models wired to events, its task types through the engine, its pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from project.crm.models import Contact, Meeting, Opportunity, OpportunityStage
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

CRM_USER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_CRM")
WON = "crm.opportunity.won"


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def seller(make_user):
    return make_user(*CRM_USER, username="seller", email="seller@example.com")


@pytest.fixture
def contact(db, seller):
    return Contact.objects.create(
        name="Ada", company="Analytical", email="ada@example.com", owner=seller
    )


def schedule(user, task_type: str, config: dict | None = None, **kwargs) -> ScheduledTask:
    kwargs.setdefault("schedule_type", "cron")
    kwargs.setdefault("cron", "*/15 * * * *")
    return services.schedule(
        user=user, module="crm", task_type=task_type, config=config or {}, **kwargs
    )


def make_due(task: ScheduledTask) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)


def logs(task: ScheduledTask) -> list[TaskExecutionLog]:
    return list(TaskExecutionLog.objects.filter(task=task).order_by("pk"))


def test_provider_offers_its_task_types_and_permissions(db):
    provider = registry.get("crm")
    assert set(provider.task_types) >= {"meeting_reminder", "follow_up", "reengage_inactive"}
    codenames = set(
        Permission.objects.filter(content_type__app_label="scheduler_app").values_list(
            "codename", flat=True
        )
    )
    assert {"SA_CRM", "SA_CRM_ADMIN"} <= codenames


# -- the won event ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_won_opportunity_fires_its_event_task_exactly_once_after_commit(seller, contact):
    announce = schedule(
        seller,
        "announce_win",
        {"channels": ["in_app"]},
        schedule_type="event",
        event=WON,
        cron=None,
    )
    deal = Opportunity.objects.create(
        title="Big deal", contact=contact, owner=seller, amount=Decimal("1200.00")
    )
    with transaction.atomic():
        deal.mark_won()
        assert not PendingEvent.objects.exists()  # not before commit
    assert PendingEvent.objects.filter(task=announce).count() == 1
    deal.amount = Decimal("1300.00")
    deal.save()  # still won: no second event
    Opportunity.objects.get(pk=deal.pk).save()
    assert PendingEvent.objects.count() == 1

    run_pass(PassOptions())
    run_pass(PassOptions())

    [log] = logs(announce)
    assert log.status == RunStatus.SUCCESS, log.error_message
    [note] = Notification.objects.filter(recipient=seller)
    assert note.subject == "Won: Big deal" and note.task_id == announce.pk
    assert "1300.00" in note.body or "1200.00" in note.body


@pytest.mark.django_db(transaction=True)
def test_a_win_rolled_back_fires_nothing(seller, contact):
    announce = schedule(seller, "announce_win", {}, schedule_type="event", event=WON, cron=None)
    deal = Opportunity.objects.create(title="Maybe", contact=contact, owner=seller)
    with pytest.raises(RuntimeError), transaction.atomic():
        deal.mark_won()
        raise RuntimeError("the deal fell through")
    run_pass(PassOptions())
    assert not PendingEvent.objects.exists() and logs(announce) == []
    assert Opportunity.objects.get(pk=deal.pk).stage == OpportunityStage.OPEN


@pytest.mark.django_db(transaction=True)
def test_an_opportunity_created_won_fires_once_and_a_lost_one_not(seller, contact):
    announce = schedule(seller, "announce_win", {}, schedule_type="event", event=WON, cron=None)
    Opportunity.objects.create(title="Signed", contact=contact, owner=seller, stage="won")
    Opportunity.objects.create(title="Gone", contact=contact, owner=seller).mark_lost()
    assert list(
        PendingEvent.objects.filter(task=announce).values_list("payload__title", flat=True)
    ) == ["Signed"]


@pytest.mark.django_db(transaction=True)
def test_announce_win_tells_the_team_too(seller, contact, make_user):
    team = Group.objects.create(name="sales")
    mate = make_user(username="mate", email="mate@example.com")
    mate.groups.add(team)
    schedule(
        seller,
        "announce_win",
        {"team": team.pk, "channels": ["email"]},
        schedule_type="event",
        event=WON,
        cron=None,
    )
    Opportunity.objects.create(title="Team win", contact=contact, owner=seller).mark_won()
    run_pass(PassOptions())
    assert sorted(m.to[0] for m in mail.outbox) == ["mate@example.com", "seller@example.com"]


# -- meeting reminders -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_meeting_reminder_reminds_each_attendee_once_by_each_channel(seller, contact, make_user):
    # The clock is set, and moved by hand between the passes: nothing depends on how long
    # a busy machine takes between two lines.
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, 0, 10, tzinfo=dt.UTC), tick=False) as clock:
        guest = make_user(username="guest", email="guest@example.com")
        soon = Meeting.objects.create(
            title="Kick-off",
            contact=contact,
            organizer=seller,
            starts_at=timezone.now() + dt.timedelta(minutes=30),
            location="Room 1",
        )
        soon.attendees.add(seller, guest)
        later = Meeting.objects.create(
            title="Review", starts_at=timezone.now() + dt.timedelta(days=2)
        )
        later.attendees.add(guest)
        task = schedule(
            seller, "meeting_reminder", {"minutes_before": 60, "channels": ["email", "in_app"]}
        )
        make_due(task)
        run_pass(PassOptions())
        clock.shift(dt.timedelta(minutes=5))
        make_due(task)
        run_pass(PassOptions())  # already reminded: nothing more

    assert sorted(m.to[0] for m in mail.outbox) == ["guest@example.com", "seller@example.com"]
    assert all(m.subject.startswith("Reminder: Kick-off") for m in mail.outbox)
    assert Notification.objects.filter(subject__startswith="Reminder: Kick-off").count() == 2
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.reminder_sent_at is not None and later.reminder_sent_at is None
    assert [log.result["data"]["meetings"] for log in logs(task)] == [[soon.pk], []]


# -- follow-ups --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_follow_up_nudges_owners_once_per_quiet_spell(seller, contact):
    quiet = Opportunity.objects.create(
        title="Quiet",
        contact=contact,
        owner=seller,
        last_activity_at=timezone.now() - dt.timedelta(days=10),
    )
    Opportunity.objects.create(title="Busy", contact=contact, owner=seller)
    Opportunity.objects.create(
        title="Closed",
        contact=contact,
        owner=seller,
        stage="won",
        last_activity_at=timezone.now() - dt.timedelta(days=30),
    )
    task = schedule(seller, "follow_up", {"quiet_days": 7}, cron="0 9 * * *")

    for _ in range(2):
        make_due(task)
        run_pass(PassOptions())
    [note] = Notification.objects.filter(recipient=seller)
    assert "Quiet" in note.body and "Busy" not in note.body and "Closed" not in note.body

    # Activity after the nudge, then quiet again: a new spell, a new nudge.
    Opportunity.objects.filter(pk=quiet.pk).update(
        follow_up_sent_at=timezone.now() - dt.timedelta(days=20),
        last_activity_at=timezone.now() - dt.timedelta(days=8),
    )
    make_due(task)
    run_pass(PassOptions())
    assert Notification.objects.filter(recipient=seller).count() == 2


# -- conditional re-engagement -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reengage_inactive_runs_only_when_customers_are_inactive(seller, contact):
    task = schedule(
        seller,
        "reengage_inactive",
        {"inactive_days": 30},
        schedule_type="conditional",
        cron="0 9 * * *",
    )
    make_due(task)
    run_pass(PassOptions())  # everyone is active: a check, not a run
    task.refresh_from_db()
    assert logs(task) == [] and task.skipped_checks == 1

    Contact.objects.filter(pk=contact.pk).update(
        last_activity_at=timezone.now() - dt.timedelta(days=40)
    )
    Contact.objects.create(
        name="Prospect",
        is_customer=False,
        owner=seller,
        last_activity_at=timezone.now() - dt.timedelta(days=90),
    )
    make_due(task)
    run_pass(PassOptions())

    [log] = logs(task)
    assert log.status == RunStatus.SUCCESS and log.result["checks_skipped"] == 1
    [note] = Notification.objects.filter(recipient=seller)
    assert "Ada" in note.body and "Prospect" not in note.body

    make_due(task)
    run_pass(PassOptions())  # handed over already: the condition no longer holds
    task.refresh_from_db()
    assert len(logs(task)) == 1 and task.skipped_checks == 1


# -- the scheduling page -----------------------------------------------------------------


def test_crm_scheduling_page_lists_and_schedules_crm_tasks(client, seller):
    client.force_login(seller)
    page = client.get(reverse("crm:schedules"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("crm:schedule", args=["follow_up"]) in html

    url = reverse("crm:schedule", args=["follow_up"])
    form = client.get(url)
    assert form.status_code == 200 and 'name="config-quiet_days"' in form.content.decode()
    response = client.post(
        url,
        {
            "name": "Morning follow-ups",
            "schedule_type": "cron",
            "cron": "0 9 * * 1-5",
            "run_at": "",
            "interval_every": "",
            "interval_unit": "hours",
            "event": "",
            "timezone": "Europe/Berlin",
            "priority": "5",
            "max_retries": "2",
            "timeout": "60",
            "tags": "",
            "config-quiet_days": "5",
            "config-channels": ["email", "in_app"],
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("crm:schedules")
    task = ScheduledTask.objects.get(module_id="crm")
    assert task.config == {"quiet_days": 5, "channels": ["email", "in_app"]}
    assert "Morning follow-ups" in client.get(reverse("crm:schedules")).content.decode()


def test_crm_pages_need_the_crm_permission(client, make_user):
    client.force_login(make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS"))
    assert client.get(reverse("crm:schedules")).status_code == 403
    assert client.get(reverse("crm:schedule", args=["follow_up"])).status_code == 403


def test_announce_win_page_starts_on_the_won_event(client, seller):
    client.force_login(seller)
    html = client.get(reverse("crm:schedule", args=["announce_win"])).content.decode()
    assert 'value="crm.opportunity.won"' in html


# -- demo seed ---------------------------------------------------------------------------


def test_seed_demo_includes_crm_and_todo_schedules_and_is_idempotent(db, capsys):
    from django.core.management import call_command

    from project.crm import demo as crm_demo
    from project.todo import demo as todo_demo

    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = {
        m: ScheduledTask.objects.filter(module_id=m).count() for m in ("reports", "crm", "todo")
    }
    data = (Contact.objects.count(), Opportunity.objects.count(), Meeting.objects.count())
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert counts["crm"] == len(crm_demo.TASKS) and counts["todo"] == 4 and counts["reports"] == 4
    assert "CRM: new scheduled tasks: 4" in first and "Todo: new scheduled tasks: 4" in first
    assert "CRM: new scheduled tasks: 0" in second and "Todo: new scheduled tasks: 0" in second
    assert {m: ScheduledTask.objects.filter(module_id=m).count() for m in counts} == counts
    assert (Contact.objects.count(), Opportunity.objects.count(), Meeting.objects.count()) == data
    for spec in (*crm_demo.USERS, *todo_demo.USERS):
        assert f"{spec.username}" in second
    kinds = set(
        ScheduledTask.objects.filter(module_id__in=["crm", "todo"]).values_list(
            "schedule_type", flat=True
        )
    )
    assert kinds == {"cron", "recurring", "event", "conditional"}
    escalate = ScheduledTask.objects.get(module_id="todo", name="Escalate overdue todos")
    assert list(escalate.on_success.values_list("name", flat=True)) == ["Platform team digest"]

"""Saving a task in the admin is all or nothing: a refusal of the services lands on the
form's fields, and then nothing is written (fields, calendars, audit, admin log)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from scheduler_app import services
from scheduler_app.models import BlackoutCalendar, ScheduledTask, TaskAuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True, username="root"))
    return client


@pytest.fixture
def task():
    return services.schedule(
        user=None,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 6 * * *",
        name="nightly",
        tags=["ops"],
    )


@pytest.fixture
def holidays():
    return BlackoutCalendar.objects.create(name="Holidays")


def change_url(task: ScheduledTask) -> str:
    return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])


def form_data(task: ScheduledTask, **overrides: str) -> dict[str, str]:
    data = {
        "name": task.name,
        "enabled": "on",
        "schedule_type": task.schedule_type,
        "cron_expression": task.cron_expression,
        "run_at_0": "",
        "run_at_1": "",
        "interval_every": "",
        "interval_unit": "",
        "event_name": "",
        "timezone": task.timezone,
        "priority": str(task.priority),
        "max_retries": str(task.max_retries),
        "timeout": str(task.timeout),
        "misfire_policy": task.misfire_policy,
        "misfire_grace": "",
        "tags": ", ".join(task.tags),
        "_save": "Save",
    }
    data.update(overrides)
    return data


def stored_state(task: ScheduledTask) -> tuple:
    return (
        ScheduledTask.objects.values().get(pk=task.pk),
        list(task.calendars.values_list("pk", flat=True)),
        TaskAuditEvent.objects.count(),
        LogEntry.objects.count(),
    )


REFUSED = [
    ({"max_retries": "500"}, "max_retries"),
    ({"timeout": "0"}, "timeout"),
    ({"timeout": "99999999"}, "timeout"),
    ({"tags": "<b>"}, "tags"),
    ({"tags": ", ".join(f"t{i}" for i in range(30))}, "tags"),
    ({"priority": "11"}, "priority"),
    ({"misfire_grace": "999999999"}, "misfire_grace"),
    ({"cron_expression": "61 * * * *"}, "cron_expression"),
    ({"cron_expression": "0 " + ",".join(["6"] * 110) + " * * *"}, "cron_expression"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    (
        {"schedule_type": "recurring", "cron_expression": "", "interval_every": "0"},
        "interval_every",
    ),
    ({"schedule_type": "event", "cron_expression": "", "event_name": ""}, "event_name"),
    ({"name": "a\x00b"}, "name"),
]


@pytest.mark.parametrize(("overrides", "field"), REFUSED)
def test_a_refused_change_shows_the_field_error_and_writes_nothing(
    admin_client, task, holidays, overrides, field
):
    before = stored_state(task)
    # A valid change to another field and a ticked calendar ride along: neither may be saved.
    data = form_data(task, **{"name": "renamed", "calendars": [str(holidays.pk)], **overrides})
    response = admin_client.post(change_url(task), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert field in form.errors, form.errors
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert not any("successfully" in m or "Not saved" in m for m in messages), messages
    assert stored_state(task) == before


def test_an_accepted_change_saves_everything_once(admin_client, task, holidays):
    data = form_data(task, name="renamed", max_retries="5", calendars=[str(holidays.pk)])
    response = admin_client.post(change_url(task), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert (task.name, task.max_retries) == ("renamed", 5)
    assert list(task.calendars.all()) == [holidays]
    [event] = TaskAuditEvent.objects.filter(task=task, action="edited")
    assert set(event.changes) == {"name", "max_retries", "calendars"}
    assert LogEntry.objects.filter(object_id=str(task.pk)).count() == 1


def test_unticking_every_calendar_goes_through_the_services(admin_client, task, holidays):
    services.update(task, user=None, calendars=[holidays])
    response = admin_client.post(change_url(task), form_data(task))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not task.calendars.exists()
    assert TaskAuditEvent.objects.filter(task=task, action="edited").count() == 2


def test_a_refusal_at_save_time_rolls_everything_back(admin_client, task, holidays, monkeypatch):
    """Another request may change the task between the form's check and the save: the
    services then refuse the save, and the whole request is rolled back."""
    monkeypatch.setattr(services, "validate_update", lambda *args, **kwargs: None)
    before = stored_state(task)
    data = form_data(task, name="renamed", max_retries="500", calendars=[str(holidays.pk)])
    response = admin_client.post(change_url(task), data, follow=True)
    assert response.redirect_chain[-1][0] == change_url(task)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("was not saved" in m and "max_retries" not in m for m in messages), messages
    assert not any("successfully" in m for m in messages), messages
    assert stored_state(task) == before


def test_the_admins_add_page_is_a_chooser_that_saves_nothing(admin_client):
    # "Add" lists the task types, each linking to its module's form; it has no form to post.
    url = reverse("admin:scheduler_app_scheduledtask_add")
    response = admin_client.get(url)
    assert response.status_code == 200 and "adminform" not in response.context
    admin_client.post(url, {"name": "sneaky", "module_id": "testmod", "task_type": "record"})
    assert not ScheduledTask.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_retries": "500"}, "max_retries"),
        ({"timeout": "0"}, "timeout"),
        ({"tags": "<b>"}, "tags"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"priority": "11"}, "priority"),
    ],
)
def test_the_module_add_form_shows_refusals_and_creates_nothing(
    client, make_user, overrides, field
):
    client.force_login(make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD"))
    data = {
        "name": "mine",
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "timezone": "UTC",
        "priority": "5",
        **overrides,
    }
    response = client.post(reverse("scheduler_app:new", args=["testmod", "record"]), data)
    assert response.status_code == 400
    assert field in response.context["form"].options.errors
    assert not ScheduledTask.objects.exists() and not TaskAuditEvent.objects.exists()


@pytest.mark.parametrize("ticked", [False, True])
def test_the_change_form_of_an_ended_task_asks_before_running_it_again(admin_client, task, ticked):
    ScheduledTask.objects.filter(pk=task.pk).update(status="failed", next_run=None)
    task.refresh_from_db()
    page = admin_client.get(change_url(task)).content.decode()
    assert "Run again on this schedule" in page
    data = form_data(task, cron_expression="0 7 * * *")
    if ticked:
        data["resume"] = "on"
    response = admin_client.post(change_url(task), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.cron_expression == "0 7 * * *"
    if ticked:
        assert task.status == "pending" and task.next_run is not None
        assert (task.next_run.minute, task.next_run.second) == (0, 0)
    else:
        assert (task.status, task.next_run) == ("failed", None)


def test_the_change_form_of_a_live_task_does_not_ask(admin_client, task):
    assert "Run again on this schedule" not in admin_client.get(change_url(task)).content.decode()

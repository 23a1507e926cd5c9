"""The audit trail: every action through every surface says who, what, when and from where;
the admin's LogEntry agrees; the task page shows it, filterable; admins see all of it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from scheduler_app import services
from scheduler_app.admin import ending
from scheduler_app.models import RunStatus, ScheduledTask, TaskAuditEvent, TaskExecutionLog
from scheduler_app.services import audit, transfer
from tests.test_admin_save import form_data
from tests.test_views import PERMS, post_data

pytestmark = pytest.mark.django_db

API = "/api/scheduler/"


@pytest.fixture
def root(make_user):
    return make_user(is_staff=True, is_superuser=True, username="root")


@pytest.fixture
def task(root):
    return services.schedule(
        user=root,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 6 * * *",
        name="nightly",
        config={"note": "a"},
    )


def open_run(task: ScheduledTask) -> TaskExecutionLog:
    ScheduledTask.objects.filter(pk=task.pk).update(status="running")
    return TaskExecutionLog.objects.create(
        task=task, run_id="r1", scheduled_for=timezone.now(), status=RunStatus.RUNNING
    )


def newest(action: str) -> TaskAuditEvent:
    return TaskAuditEvent.objects.filter(action=action).order_by("-pk").first()


def admin_url(name: str, *args) -> str:  # noqa: ANN002
    return reverse(f"admin:scheduler_app_scheduledtask_{name}", args=args)


# -- each surface ----------------------------------------------------------------------------


def test_python_code_is_the_source_outside_any_surface(task, root):
    services.pause(task, user=root)
    services.share(task, user=root, users=[root], permissions=["view"])
    assert [(e.action, e.source) for e in audit.history(task)[:3]] == [
        ("shared", "code"),
        ("paused", "code"),
        ("created", "code"),
    ]


@pytest.mark.parametrize(
    ("button", "action"),
    [("pause", "paused"), ("run_now", "run_requested"), ("cancel", "cancelled")],
)
def test_the_admins_buttons_record_from_the_admin(client, root, task, button, action):
    client.force_login(root)
    data = {"post": ending.CONFIRMED} if button == "cancel" else {}
    client.post(admin_url("action", task.pk, button), data)
    event = newest(action)
    assert event is not None, [e.action for e in audit.history(task)]
    assert (event.source, event.actor_name) == ("admin", "root")


def test_the_admin_records_resume_edit_and_delete_from_the_admin(client, root, task):
    client.force_login(root)
    services.pause(task, user=root)
    client.post(admin_url("action", task.pk, "resume"))
    assert newest("resumed").source == "admin"
    client.post(admin_url("change", task.pk), form_data(task, cron_expression="0 7 * * *"))
    edited = newest("edited")
    assert (edited.source, edited.changes["cron_expression"]) == (
        "admin",
        ["0 6 * * *", "0 7 * * *"],
    )
    client.post(admin_url("delete", task.pk), {"post": "yes"})
    assert newest("deleted").source == "admin"
    assert not ScheduledTask.objects.filter(pk=task.pk).exists()


def test_the_module_pages_record_from_the_page(client, make_user):
    user = make_user(*PERMS, username="pat")
    client.force_login(user)
    new = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})
    client.post(new, post_data())
    task = ScheduledTask.objects.get()
    client.post(
        reverse("scheduler_app:edit", args=[task.pk]), post_data(name="renamed", enabled="on")
    )
    client.post(reverse("scheduler_app:run_now", args=[task.pk]))
    log = open_run(task)
    client.post(reverse("scheduler_app:stop_run", args=[log.pk]))
    assert [(e.action, e.source, e.actor_name) for e in audit.history(task)] == [
        ("interrupted", "page", "pat"),
        ("run_requested", "page", "pat"),
        ("edited", "page", "pat"),
        ("created", "page", "pat"),
    ]


def test_the_commands_record_from_a_command(task, root):
    call_command(
        "scheduler_run", str(task.pk), "--workers", "0", "--as-user", "root", stdout=StringIO()
    )
    assert (newest("run_requested").source, newest("run_requested").actor_name) == (
        "command",
        "root",
    )
    log = open_run(task)
    call_command("scheduler_interrupt", str(log.pk), stdout=StringIO())
    assert (newest("interrupted").source, newest("interrupted").actor_name) == ("command", "")
    ScheduledTask.objects.filter(pk=task.pk).update(status="pending")
    call_command(
        "scheduler_pause_window",
        "--module",
        "testmod",
        "--for",
        "1h",
        "--reason",
        "upgrade",
        stdout=StringIO(),
    )
    paused = newest("paused")
    assert paused.source == "command" and "upgrade" in paused.changes["pause_window"][1]


def test_an_import_records_from_an_import(task, tmp_path):
    data = transfer.export_schedules(user=None)
    entry = {**data["tasks"][0], "name": "imported"}
    data["tasks"] = [{**data["tasks"][0], "priority": 9}, entry]
    path = tmp_path / "schedules.json"
    path.write_text(json.dumps(data))
    call_command("scheduler_import", str(path), stdout=StringIO())
    assert newest("edited").source == "import" and newest("edited").changes["priority"] == [5, 9]
    assert newest("created").source == "import" and newest("created").task_name == "imported"


def test_the_api_records_from_the_api(make_user):
    user = make_user(*PERMS, username="api-user")
    api = APIClient()
    api.force_login(user)
    body = {
        "module": "testmod",
        "task_type": "record",
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "config": {"note": "hello"},
    }
    pk = api.post(f"{API}tasks/", body, format="json").json()["id"]
    api.patch(f"{API}tasks/{pk}/", {"name": "renamed"}, format="json")
    for verb in ("pause", "resume", "run"):
        api.post(f"{API}tasks/{pk}/{verb}/")
    open_run(ScheduledTask.objects.get(pk=pk))
    api.post(f"{API}tasks/{pk}/stop/")
    api.post(f"{API}tasks/{pk}/cancel/")
    assert [(e.action, e.source) for e in audit.history(pk)] == [
        (action, "api")
        for action in (
            "cancelled",
            "interrupted",
            "run_requested",
            "resumed",
            "paused",
            "edited",
            "created",
        )
    ]


def test_the_system_tasks_sync_records_from_the_system():
    from scheduler_app.services import system_tasks

    with audit.acting_from("command"):  # even when a command starts it
        system_tasks.sync()
    sources = set(TaskAuditEvent.objects.values_list("source", flat=True))
    assert sources <= {"system"}


def test_an_unknown_source_is_refused():
    with pytest.raises(ValueError, match="Unknown audit source 'fax'"):
        with audit.acting_from("fax"):
            pass  # pragma: no cover


# -- the admin's LogEntry ----------------------------------------------------------------


def test_each_event_by_a_user_is_the_admins_log_entry_too(client, root, task):
    client.force_login(root)
    client.post(admin_url("change", task.pk), form_data(task, name="renamed"))
    services.pause(task, user=root)
    services.resume(task, user=None)  # the system: no user, no LogEntry
    entries = list(LogEntry.objects.filter(object_id=str(task.pk)).order_by("pk"))
    assert [(e.action_flag, e.get_change_message()) for e in entries] == [
        (ADDITION, "Added."),
        (CHANGE, "Changed name."),
        (CHANGE, "Paused (Python code)"),
    ]
    # The admin's own "History" page shows them, once each.
    html = client.get(admin_url("history", task.pk)).content.decode()
    assert html.count("Changed name.") == 1 and "Paused (Python code)" in html
    services.delete(task, user=root)
    assert LogEntry.objects.filter(object_id=str(task.pk), action_flag=DELETION).count() == 1


# -- the task page and the admin list ------------------------------------------------------


def test_the_task_page_shows_the_trail_field_by_field_and_filters_it(client, root, task):
    services.update(task, user=root, name="renamed", cron="0 7 * * *")
    with audit.acting_from("api"):
        services.pause(task, user=root)
    client.force_login(root)
    html = client.get(admin_url("change", task.pk)).content.decode()
    assert 'id="task-audit"' in html
    assert html.count('class="sched-audit-row"') == 3
    assert "<code>cron_expression</code>: 0 6 * * * → 0 7 * * *" in html
    assert "<code>name</code>: nightly → renamed" in html
    only_api = client.get(admin_url("change", task.pk), {"audit_source": "api"}).content.decode()
    assert only_api.count('class="sched-audit-row"') == 1 and 'data-action="paused"' in only_api
    nobody = client.get(admin_url("change", task.pk), {"audit_actor": "nobody"}).content.decode()
    assert "No event matches." in nobody
    # Unknown filter values are ignored rather than failing.
    odd = client.get(admin_url("change", task.pk), {"audit_action": "x", "audit_page": "9" * 40})
    assert odd.status_code == 200


def test_secrets_show_masked_in_the_trail(client, root):
    from scheduler_app import task_configs as configs
    from scheduler_app.registry import registry
    from tests.test_security import SecureProvider  # a task type with a secret field

    registry.register(SecureProvider, strict=True)
    try:
        from django.contrib.auth.models import Group

        group = Group.objects.create(name="ops")
        task = services.schedule(
            user=None,
            module="securemod",
            task_type="mail_group",
            schedule_type="cron",
            cron="0 6 * * *",
            config={"group": group.pk, "api_key": "old-k3y-value"},
        )
        services.update(task, user=None, config={"group": group.pk, "api_key": "new-k3y-value"})
        client.force_login(root)
        html = client.get(admin_url("change", task.pk)).content.decode()
        assert "k3y-value" not in html
        assert f"<code>config.api_key</code>: {configs.SECRET_MASK} → {configs.SECRET_MASK}" in html
    finally:
        registry.unregister("securemod")


def test_all_audit_events_are_listed_for_scheduler_admins_only(client, root, task, make_user):
    url = reverse("admin:scheduler_app_taskauditevent_changelist")
    client.force_login(root)
    response = client.get(url, {"source__exact": "code"})
    assert response.status_code == 200 and "nightly" in response.content.decode()
    event = TaskAuditEvent.objects.get()
    detail = reverse("admin:scheduler_app_taskauditevent_change", args=[event.pk])
    assert client.get(detail).status_code == 200
    assert client.post(detail, {}).status_code == 403  # read only
    client.force_login(make_user(*PERMS, is_staff=True))
    assert client.get(url).status_code == 403


def test_a_pause_window_opened_in_the_admin_records_from_the_admin(client, root, task):
    import datetime as dt

    until = timezone.now() + dt.timedelta(hours=1)
    now = timezone.now()
    client.force_login(root)
    response = client.post(
        "/admin/scheduler_app/pausewindow/add/",
        {
            "module_id": "testmod",
            "reason": "upgrade",
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": now.strftime("%H:%M:%S"),
            "ends_at_0": until.strftime("%Y-%m-%d"),
            "ends_at_1": until.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302
    paused = newest("paused")
    assert (paused.task_ref, paused.source, paused.actor_name) == (task.pk, "admin", "root")

"""System tasks: declared by modules, created by migrate or a command, protected from users."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from scheduler_app import policy, services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, ScheduledTask, SystemTaskRecord, TaskExecutionLog
from scheduler_app.providers import SystemTask
from scheduler_app.registry import registry
from scheduler_app.services import system_tasks

PRUNE = "scheduler.prune"


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def maintenance():
    return registry.get("scheduler")


def system_task(key: str = PRUNE) -> ScheduledTask:
    return SystemTaskRecord.objects.select_related("task").get(key=key).task


@pytest.mark.django_db(transaction=True)
def test_migrate_creates_the_declared_system_tasks_and_a_second_migrate_keeps_them():
    # Switched on here only: the test settings keep system tasks out of other tests' databases.
    with override_settings(SCHEDULER={"SYSTEM_TASKS_ON_MIGRATE": True, "EXECUTION": "inline"}):
        call_command("migrate", verbosity=0)
        first = system_task()
        call_command("migrate", verbosity=0)
        again = system_task()
    assert first.pk == again.pk
    assert ScheduledTask.objects.filter(is_system=True, module_id="scheduler").count() == 1
    assert again.is_system and again.owner_id is None and again.key == "scheduler.prune_logs"
    assert again.cron_expression == "30 3 * * *" and "system" in again.tags
    assert again.next_run is not None and again.enabled
    # The flush after this test runs post_migrate with system tasks switched off again.
    ScheduledTask.objects.filter(is_system=True).delete()


@pytest.mark.django_db
def test_sync_is_idempotent():
    first = system_tasks.sync()
    second = system_tasks.sync()
    assert PRUNE in first.created and first.errors == {}
    assert second.created == [] and second.updated == [] and PRUNE in second.unchanged
    assert ScheduledTask.objects.filter(is_system=True).count() == len(system_tasks.declared())


@pytest.mark.django_db
def test_system_tasks_refuse_deletion_and_edit_even_for_a_superuser(make_user, client):
    system_tasks.sync()
    task = system_task()
    boss = make_user(is_superuser=True, is_staff=True)

    with pytest.raises(PermissionDenied, match="System tasks cannot be deleted"):
        services.delete(task, user=boss)
    with pytest.raises(PermissionDenied):
        services.delete(task, user=None)  # not even the system itself
    with pytest.raises(PermissionDenied):
        services.update(task, user=boss, cron="* * * * *")
    assert not policy.can_edit(boss, task) and not policy.can_delete(boss, task)

    client.force_login(boss)
    delete_page = client.get(reverse("admin:scheduler_app_scheduledtask_delete", args=[task.pk]))
    assert delete_page.status_code == 403
    client.post(
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]), {"name": "renamed"}
    )
    task.refresh_from_db()
    assert (
        task.name == "Delete old execution logs"
        and ScheduledTask.objects.filter(pk=task.pk).exists()
    )


@pytest.mark.django_db
def test_a_scheduler_admin_may_pause_resume_and_run_a_system_task(make_user):
    system_tasks.sync()
    task = system_task()
    admin = make_user("scheduler_app.SA_SCHEDULER_ADMIN")
    services.pause(task, user=admin)
    services.resume(task, user=admin)
    task = services.run_now(task, user=admin)
    assert task.status == "pending" and task.next_run <= timezone.now()


@pytest.mark.django_db
def test_a_changed_declaration_updates_the_task_and_a_removed_one_disables_it(
    maintenance, monkeypatch
):
    system_tasks.sync()
    pk = system_task().pk
    changed = SystemTask(
        task_type="prune_logs", name="Prune weekly", cron="0 4 * * 0", config={"days": 90}
    )
    monkeypatch.setattr(maintenance, "system_tasks", {"prune": changed})
    report = system_tasks.sync()
    task = system_task()
    assert report.updated == [PRUNE] and task.pk == pk
    assert (task.name, task.cron_expression, task.config) == (
        "Prune weekly",
        "0 4 * * 0",
        {"days": 90},
    )

    monkeypatch.setattr(maintenance, "system_tasks", {})
    report = system_tasks.sync()
    task.refresh_from_db()
    assert report.retired == [PRUNE] and not task.enabled  # kept with its history, not deleted

    monkeypatch.setattr(maintenance, "system_tasks", {"prune": changed})
    report = system_tasks.sync()
    task.refresh_from_db()
    assert report.updated == [PRUNE] and task.enabled


@pytest.mark.django_db
def test_a_fourth_module_declares_system_tasks_without_changes_in_scheduler_app(monkeypatch):
    testmod = registry.get("testmod")
    monkeypatch.setattr(
        testmod,
        "system_tasks",
        {
            "heartbeat": SystemTask(
                task_type="noop", name="Heartbeat", schedule_type="recurring", interval="15 minutes"
            ),
            "broken": SystemTask(task_type="noop", name="Broken", cron="every day"),
        },
    )
    with pytest.raises(CommandError, match="1 system task"):
        call_command("scheduler_sync_system_tasks", stdout=None, stderr=None)
    heartbeat = system_task("testmod.heartbeat")
    assert heartbeat.is_system and heartbeat.interval_every == 15
    assert not SystemTaskRecord.objects.filter(key="testmod.broken").exists()


@pytest.mark.django_db(transaction=True)
def test_the_prune_system_task_deletes_old_logs(make_task):
    system_tasks.sync()
    other = make_task("noop")
    old = timezone.now() - dt.timedelta(days=40)
    TaskExecutionLog.objects.create(
        task=other,
        run_id="old",
        scheduled_for=old,
        started_at=old,
        finished_at=old,
        status=RunStatus.SUCCESS,
    )
    TaskExecutionLog.objects.create(
        task=other, run_id="new", scheduled_for=timezone.now(), status=RunStatus.SUCCESS
    )
    ScheduledTask.objects.filter(pk=other.pk).update(next_run=None)
    prune = services.run_now(system_task(), user=None)

    run_pass(PassOptions())

    log = TaskExecutionLog.objects.get(task=prune)
    assert log.status == RunStatus.SUCCESS, log.error_message
    assert "Deleted 1 log row(s) older than 30 day(s)." in log.result["message"]
    assert list(TaskExecutionLog.objects.filter(task=other).values_list("run_id", flat=True)) == [
        "new"
    ]

"""Clearing overlap locks: one rule (module and scheduler admins), one service, every surface."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from scheduler_app import services
from scheduler_app.engine import locks
from scheduler_app.models import AuditAction, ScheduledTask, TaskAuditEvent, TaskStatus
from scheduler_app.policy import permissions
from tests.test_permissions_roles import (
    ADMIN,
    BASE,
    OTHER_ADMIN,
    register_other_module,
    unregister_other_module,
)

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:scheduler_app_scheduledtask_changelist"


@pytest.fixture
def other_module(db):
    register_other_module()
    yield
    unregister_other_module()


@pytest.fixture
def owner(make_user):
    return make_user(permissions.SCHEDULER, BASE, username="olivia", is_staff=True)


@pytest.fixture
def task(owner):
    return locked(
        services.schedule(
            user=owner,
            module="testmod",
            task_type="record",
            schedule_type="cron",
            cron="0 * * * *",
            config={},
            name="stuck",
        )
    )


def locked(task: ScheduledTask) -> ScheduledTask:
    taken, _degraded = locks.acquire_many({task.pk: 600}, "a lost host")
    assert taken == {task.pk}
    return task


def clear_locks(*args: str) -> str:
    out = io.StringIO()
    call_command("scheduler_clear_locks", *args, stdout=out)
    return out.getvalue().strip()


# -- the service -----------------------------------------------------------------------


def test_a_module_admin_clears_a_lock_of_their_module(task, make_user):
    assert services.clear_lock(task, user=make_user(ADMIN)) is True
    assert not locks.is_locked(task.pk)
    assert services.clear_lock(task, user=make_user(ADMIN)) is False


@pytest.mark.parametrize(
    "perms",
    [
        (permissions.SCHEDULER, BASE),  # a module user: sees every task of the module
        (permissions.SCHEDULER_VIEW,),
    ],
)
def test_a_user_who_may_only_see_the_task_is_refused(task, make_user, perms):
    with pytest.raises(PermissionDenied, match="Only an administrator of the module"):
        services.clear_lock(task, user=make_user(*perms))
    assert locks.is_locked(task.pk)


def test_the_owner_may_not_clear_the_lock_of_their_own_task(task, owner):
    with pytest.raises(PermissionDenied):
        services.clear_lock(task, user=owner)
    assert locks.is_locked(task.pk)


def test_a_user_who_may_not_see_the_task_is_told_it_does_not_exist(task, make_user, other_module):
    for user in (make_user(), make_user(permissions.SCHEDULER), make_user(OTHER_ADMIN)):
        with pytest.raises(ScheduledTask.DoesNotExist):
            services.clear_lock(task, user=user)
    assert locks.is_locked(task.pk)


def test_clear_locks_clears_only_the_modules_the_user_administers(task, make_user, other_module):
    other = locked(
        services.schedule(
            user=None, module="othermod", task_type="noop", schedule_type="cron", cron="0 * * * *"
        )
    )
    assert services.clear_locks(user=make_user(OTHER_ADMIN)) == 1
    assert locks.is_locked(task.pk) and not locks.is_locked(other.pk)


def test_clear_locks_refuses_a_user_who_administers_nothing(task, owner, make_user):
    for user in (owner, make_user(), make_user(permissions.SCHEDULER_VIEW)):
        with pytest.raises(PermissionDenied, match="Only a module or scheduler administrator"):
            services.clear_locks(user=user)
    assert locks.is_locked(task.pk)


def test_clear_locks_leaves_the_locks_of_running_tasks(task, make_user):
    ScheduledTask.objects.filter(pk=task.pk).update(status=TaskStatus.RUNNING)
    assert services.clear_locks(user=make_user(permissions.SCHEDULER_ADMIN)) == 0
    assert locks.is_locked(task.pk)
    assert services.clear_lock(task, user=make_user(permissions.SCHEDULER_ADMIN)) is True


# -- the command -------------------------------------------------------------------------


def test_command_clears_one_lock_as_the_system(task):
    assert clear_locks(str(task.pk)) == f"Task {task.pk}: lock cleared."
    assert clear_locks(str(task.pk)) == f"Task {task.pk}: lock was not held."


def test_command_as_a_user_who_may_only_see_the_task_is_refused(task, make_user):
    make_user(permissions.SCHEDULER, BASE, username="viewer")
    with pytest.raises(CommandError) as excinfo:
        clear_locks(str(task.pk), "--as-user", "viewer")
    assert str(excinfo.value) == (
        f"Task {task.pk}: Only an administrator of the module may clear a task's lock."
    )
    assert locks.is_locked(task.pk)


def test_command_as_a_user_who_may_not_see_the_task_says_not_found(task, make_user):
    make_user(username="stranger")
    with pytest.raises(CommandError) as excinfo:
        clear_locks(str(task.pk), "--as-user", "stranger")
    assert str(excinfo.value) == f"No scheduled task with id {task.pk} that you may see."
    assert locks.is_locked(task.pk)


def test_command_as_a_module_admin_clears_the_lock(task, make_user):
    make_user(ADMIN, username="boss")
    assert clear_locks(str(task.pk), "--as-user", "boss") == f"Task {task.pk}: lock cleared."
    assert not locks.is_locked(task.pk)


def test_command_without_an_id_clears_every_lock_but_those_of_running_tasks(task, make_task):
    running = locked(make_task(name="live"))
    ScheduledTask.objects.filter(pk=running.pk).update(status=TaskStatus.RUNNING)
    assert clear_locks() == "Cleared 1 lock(s)."
    assert not locks.is_locked(task.pk) and locks.is_locked(running.pk)


def test_command_without_an_id_refuses_a_user_without_rights(task, make_user):
    make_user(username="nobody")
    with pytest.raises(CommandError, match="^Only a module or scheduler administrator"):
        clear_locks("--as-user", "nobody")
    assert locks.is_locked(task.pk)


def test_command_without_an_id_as_a_module_admin_clears_their_module_only(
    task, make_user, other_module
):
    other = locked(
        services.schedule(
            user=None, module="othermod", task_type="noop", schedule_type="cron", cron="0 * * * *"
        )
    )
    make_user(OTHER_ADMIN, username="elsewhere")
    assert clear_locks("--as-user", "elsewhere") == "Cleared 1 lock(s)."
    assert locks.is_locked(task.pk) and not locks.is_locked(other.pk)


# -- the admin ---------------------------------------------------------------------------


def admin_action(client, *tasks):
    response = client.post(
        reverse(CHANGELIST),
        {"action": "clear_locks", "_selected_action": [t.pk for t in tasks]},
        follow=True,
    )
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_action_clears_the_lock_for_a_module_admin(task, make_user, client):
    client.force_login(make_user(ADMIN, is_staff=True))
    messages = admin_action(client, task)
    assert any("Cleared the lock of 1 task" in m for m in messages), messages
    assert not locks.is_locked(task.pk)


def test_admin_offers_the_action_only_to_administrators(task, owner, make_user, client):
    client.force_login(owner)
    page = client.get(reverse(CHANGELIST))
    assert "clear_locks" not in dict(page.context["action_form"].fields["action"].choices)
    # Posting it anyway clears nothing.
    admin_action(client, task)
    assert locks.is_locked(task.pk)
    client.force_login(make_user(ADMIN, is_staff=True))
    page = client.get(reverse(CHANGELIST))
    assert "clear_locks" in dict(page.context["action_form"].fields["action"].choices)


def test_task_page_button_follows_the_rule(task, owner, make_user, client):
    url = reverse("admin:scheduler_app_scheduledtask_action", args=[task.pk, "clear_lock"])
    page = reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    client.force_login(owner)
    assert "clear_lock" not in dict(client.get(page).context["task_actions"])
    response = client.post(url, follow=True)
    assert any("Skipped “stuck”" in str(m) for m in get_messages(response.wsgi_request))
    assert locks.is_locked(task.pk)
    client.force_login(make_user(ADMIN, is_staff=True))
    assert "clear_lock" in dict(client.get(page).context["task_actions"])
    client.post(url)
    assert not locks.is_locked(task.pk)


# -- the audit trail: who cleared a lock, and from where ----------------------------------


def cleared_events(task: ScheduledTask) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.actor_name, e.source)
        for e in TaskAuditEvent.objects.for_task(task).filter(action=AuditAction.LOCK_CLEARED)
    ]


@pytest.fixture
def admin_user(make_user):
    return make_user(ADMIN, is_staff=True, username="ada")


def test_the_service_records_who_cleared_the_lock(task, admin_user):
    assert services.clear_lock(task, user=admin_user) is True
    assert cleared_events(task) == [("lock_cleared", "ada", "code")]
    # The admin's own History agrees.
    entry = LogEntry.objects.get(object_id=str(task.pk), user=admin_user)
    assert "Lock cleared" in entry.change_message


def test_a_lock_that_was_not_held_writes_no_event(task, admin_user):
    locks.clear_lock(task.pk)
    assert services.clear_lock(task, user=admin_user) is False
    assert cleared_events(task) == []


def test_a_refused_clear_writes_no_event(task, owner):
    with pytest.raises(Exception, match="Only an administrator"):
        services.clear_lock(task, user=owner)
    assert cleared_events(task) == []


def test_clear_locks_records_one_event_per_lock_it_cleared(task, admin_user, make_task):
    free = make_task(cron="0 * * * *")
    assert services.clear_locks(user=admin_user) == 1
    assert cleared_events(task) == [("lock_cleared", "ada", "code")]
    assert cleared_events(free) == []


def test_the_system_clearing_a_lock_is_recorded_without_an_actor(task):
    assert services.clear_lock(task, user=None) is True
    assert cleared_events(task) == [("lock_cleared", "", "code")]


def test_the_admin_action_records_the_admin_as_source(task, admin_user, client):
    client.force_login(admin_user)
    client.post(
        reverse(CHANGELIST), {"action": "clear_locks", "_selected_action": [task.pk]}, follow=True
    )
    assert not locks.is_locked(task.pk)
    assert cleared_events(task) == [("lock_cleared", "ada", "admin")]


def test_the_task_page_button_records_the_admin_as_source(task, admin_user, client):
    client.force_login(admin_user)
    client.post(reverse("admin:scheduler_app_scheduledtask_action", args=[task.pk, "clear_lock"]))
    assert cleared_events(task) == [("lock_cleared", "ada", "admin")]


@pytest.mark.parametrize("with_id", [True, False])
def test_the_command_records_the_command_as_source(task, admin_user, with_id):
    args = [str(task.pk)] if with_id else []
    call_command("scheduler_clear_locks", *args, "--as-user", "ada", stdout=io.StringIO())
    assert cleared_events(task) == [("lock_cleared", "ada", "command")]


def test_the_command_without_a_user_records_the_system_from_the_command(task):
    call_command("scheduler_clear_locks", str(task.pk), stdout=io.StringIO())
    assert cleared_events(task) == [("lock_cleared", "", "command")]


def test_the_api_records_the_api_as_source(task, admin_user, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}
    client = APIClient()
    client.force_login(admin_user)
    response = client.post(f"/api/scheduler/tasks/{task.pk}/clear-lock/")
    assert response.status_code == 200, response.content
    assert cleared_events(task) == [("lock_cleared", "ada", "api")]

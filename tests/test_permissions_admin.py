"""The permission matrix through the admin and the scheduling views (Django's test client),
plus forged POSTs, CSRF and HTML escaping.

Same matrix as tests/test_permissions_matrix.py: each cell is done with real
requests and judged by what changed in the database, not by the page.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine import locks
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, TaskStatus
from scheduler_app.policy import permissions
from tests.test_permissions_matrix import ACTIONS, MATRIX
from tests.test_permissions_roles import (
    ADMIN,
    BASE,
    make_role,
    register_other_module,
    share_for_role,
    unregister_other_module,
)

CELLS = [(role, action, MATRIX[role][i]) for role in MATRIX for i, action in enumerate(ACTIONS)]


def change_url(task: ScheduledTask) -> str:
    return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])


def action_url(task: ScheduledTask, action: str) -> str:
    return reverse("admin:scheduler_app_scheduledtask_action", args=[task.pk, action])


def change_form_data(task: ScheduledTask, **overrides: str) -> dict[str, str]:
    data = {
        "name": task.name,
        "enabled": "on",
        "schedule_type": task.schedule_type,
        "cron_expression": task.cron_expression,
        "run_at_0": "",
        "run_at_1": "",
        "run_at": "",
        "interval_every": "",
        "interval_unit": "",
        "event_name": "",
        "timezone": task.timezone,
        "priority": str(task.priority),
        "max_retries": str(task.max_retries),
        "timeout": str(task.timeout),
        "misfire_policy": task.misfire_policy,
        "misfire_grace": "",
        "tags": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def other_module(db):
    register_other_module()
    yield
    unregister_other_module()


@pytest.fixture
def scene(other_module, make_user):
    def build(role: str):
        owner = make_user(permissions.SCHEDULER, BASE, is_staff=True)
        task = services.schedule(
            user=owner,
            module="testmod",
            task_type="record",
            schedule_type="cron",
            cron="0 * * * *",
            config={"note": "x"},
        )
        log = TaskExecutionLog.objects.create(
            task=task, run_id="r1", scheduled_for=timezone.now(), status=RunStatus.SUCCESS
        )
        user = make_role(role, make_user, owner)
        share_for_role(role, user, task)
        client = Client()
        if not isinstance(user, AnonymousUser):
            client.force_login(user)
        return client, ScheduledTask.objects.get(pk=task.pk), log

    return build


def stored(task: ScheduledTask) -> ScheduledTask | None:
    return ScheduledTask.objects.filter(pk=task.pk).first()


def perform(action: str, client: Client, task: ScheduledTask, log: TaskExecutionLog) -> bool:
    """Do ``action`` over HTTP; True when it took effect. Never a server error."""
    if action == "schedule":
        before = ScheduledTask.objects.count()
        url = reverse("scheduler_app:new", args=["testmod", "record"])
        response = client.post(
            url,
            {
                "name": "mine",
                "schedule_type": "cron",
                "cron": "0 6 * * *",
                "timezone": "UTC",
                "priority": "5",
                "config-note": "n",
            },
        )
        assert response.status_code in (302, 403), response.status_code
        return ScheduledTask.objects.count() == before + 1
    if action == "view":
        listed = client.get(reverse("admin:scheduler_app_scheduledtask_changelist"))
        page = client.get(change_url(task))
        assert listed.status_code in (200, 302, 403) and page.status_code in (200, 302, 403)
        shown = listed.status_code == 200 and task in listed.context["cl"].result_list
        assert shown == (page.status_code == 200)
        return shown
    if action == "edit":
        response = client.post(change_url(task), change_form_data(task, name="renamed"))
        assert response.status_code in (200, 302, 403), response.status_code
        return stored(task).name == "renamed"
    if action == "delete":
        url = reverse("admin:scheduler_app_scheduledtask_delete", args=[task.pk])
        response = client.post(url, {"post": "yes"})
        assert response.status_code in (302, 403), response.status_code
        return stored(task) is None
    if action == "view logs":
        url = reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk])
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), response.status_code
        return response.status_code == 200
    if action == "clear lock":
        locks.acquire_many({task.pk: 60}, "a lost host")
        response = client.post(action_url(task, "clear_lock"))
        assert response.status_code in (302, 403, 404), response.status_code
        return not locks.is_locked(task.pk)
    if action == "resume":
        services.pause(task, user=None)
    name = {"run": "run_now"}.get(action, action)
    before = stored(task)
    # Ending a schedule is confirmed first: post the "Yes, end" answer.
    response = client.post(action_url(task, name), {"post": "yes"} if action == "cancel" else {})
    assert response.status_code in (302, 403, 404), response.status_code
    after = stored(task)
    return (after.status, after.next_run, after.updated_at) != (
        before.status,
        before.next_run,
        before.updated_at,
    )


@pytest.mark.parametrize(
    ("role", "action", "allowed"), CELLS, ids=[f"{r}-{a}" for r, a, _ in CELLS]
)
def test_admin_and_views_follow_the_matrix(scene, role, action, allowed):
    client, task, log = scene(role)
    assert perform(action, client, task, log) == allowed


def test_changelist_actions_skip_tasks_the_user_may_not_touch(other_module, make_user):
    owner = make_user(permissions.SCHEDULER, BASE, is_staff=True)
    other = make_user(permissions.SCHEDULER, BASE, is_staff=True)
    mine, theirs = (
        services.schedule(
            user=u, module="testmod", task_type="noop", schedule_type="cron", cron="0 * * * *"
        )
        for u in (owner, other)
    )
    client = Client()
    client.force_login(owner)
    # "theirs" is visible (same module) but not the owner's to pause.
    response = client.post(
        reverse("admin:scheduler_app_scheduledtask_changelist"),
        {"action": "pause_tasks", "_selected_action": [mine.pk, theirs.pk]},
    )
    assert response.status_code == 302
    assert stored(mine).status == TaskStatus.PAUSED
    assert stored(theirs).status == TaskStatus.PENDING


# --- forged POSTs ---------------------------------------------------------------------


def test_a_forged_change_post_cannot_move_reassign_or_systemise_a_task(other_module, make_user):
    owner = make_user(permissions.SCHEDULER, BASE, is_staff=True)
    thief = make_user(is_staff=True)
    task = services.schedule(
        user=owner, module="testmod", task_type="record", schedule_type="cron", cron="0 * * * *"
    )
    client = Client()
    client.force_login(owner)
    forged = change_form_data(
        task,
        name="still mine",
        module_id="othermod",
        task_type="noop",
        owner=str(thief.pk),
        is_system="on",
        status="success",
        created_by=str(thief.pk),
    )
    response = client.post(change_url(task), forged)
    assert response.status_code == 302
    row = stored(task)
    assert (row.name, row.module_id, row.task_type, row.owner_id, row.is_system, row.status) == (
        "still mine",
        "testmod",
        "record",
        owner.pk,
        False,
        TaskStatus.PENDING,
    )


def test_a_forged_post_on_a_system_task_changes_nothing(other_module, make_user):
    task = services.schedule(
        user=None,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        is_system=True,
    )
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    response = client.post(change_url(task), change_form_data(task, name="hijacked"))
    assert response.status_code == 403
    response = client.post(
        reverse("admin:scheduler_app_scheduledtask_delete", args=[task.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert stored(task).name != "hijacked"


def test_the_scheduling_view_refuses_a_module_the_user_lacks(other_module, make_user):
    client = Client()
    client.force_login(make_user(permissions.SCHEDULER, BASE))
    response = client.post(
        reverse("scheduler_app:new", args=["othermod", "noop"]),
        {"schedule_type": "cron", "cron": "0 6 * * *", "timezone": "UTC", "priority": "5"},
    )
    assert response.status_code == 403
    assert not ScheduledTask.objects.exists()


def test_the_edit_view_hides_tasks_the_user_may_not_see(other_module, make_user):
    owner = make_user(permissions.SCHEDULER, BASE)
    task = services.schedule(
        user=owner, module="testmod", task_type="record", schedule_type="cron", cron="0 * * * *"
    )
    client = Client()
    client.force_login(make_user(permissions.SCHEDULER, is_staff=True))
    assert client.get(reverse("scheduler_app:edit", args=[task.pk])).status_code == 404
    client.force_login(make_user(permissions.SCHEDULER, BASE))
    assert client.get(reverse("scheduler_app:edit", args=[task.pk])).status_code == 403


# --- CSRF ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["change", "action", "delete", "schedule"])
def test_posts_without_a_csrf_token_are_refused(other_module, make_user, target):
    owner = make_user(permissions.SCHEDULER, BASE, ADMIN, is_staff=True)
    task = services.schedule(
        user=owner, module="testmod", task_type="record", schedule_type="cron", cron="0 * * * *"
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url, data = {
        "change": (change_url(task), change_form_data(task, name="csrf")),
        "action": (action_url(task, "pause"), {}),
        "delete": (
            reverse("admin:scheduler_app_scheduledtask_delete", args=[task.pk]),
            {"post": "yes"},
        ),
        "schedule": (
            reverse("scheduler_app:new", args=["testmod", "record"]),
            {"schedule_type": "cron", "cron": "0 6 * * *", "timezone": "UTC", "priority": "5"},
        ),
    }[target]
    assert client.post(url, data).status_code == 403
    row = stored(task)
    assert (row.name, row.status) == (task.name, TaskStatus.PENDING)
    assert ScheduledTask.objects.count() == 1


# --- HTML escaping ---------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def test_names_configs_errors_and_output_are_escaped(other_module, make_user):
    owner = make_user(permissions.SCHEDULER, BASE, is_staff=True)
    task = services.schedule(
        user=owner,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        name=SCRIPT,
        config={"note": SCRIPT},
    )
    ScheduledTask.objects.filter(pk=task.pk).update(
        error_message=SCRIPT, last_status="failed", last_run=timezone.now()
    )
    log = TaskExecutionLog.objects.create(
        task=task,
        run_id="r1",
        scheduled_for=timezone.now(),
        status=RunStatus.FAILED,
        error_message=SCRIPT,
        traceback=SCRIPT,
        output=SCRIPT,
        result={"html": SCRIPT},
    )
    client = Client()
    client.force_login(owner)
    pages = [
        reverse("admin:scheduler_app_scheduledtask_changelist"),
        change_url(task),
        reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk]),
        reverse("admin:scheduler_app_scheduledtask_dashboard"),
        reverse("scheduler_app:edit", args=[task.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert SCRIPT not in html, url
    change_page = client.get(change_url(task)).content.decode()
    assert ESCAPED in change_page or "&lt;script&gt;" in change_page

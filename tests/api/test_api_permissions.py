"""The role x action permission matrix, through the HTTP API.

The matrix and the scene are those of tests/test_permissions_matrix.py (the
services' and policy's test): the API must give every role the same answer.
Refused: 401 without credentials, 404 for a task the role may not see (its
existence is not revealed), 403 for one it may see; nothing is changed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from scheduler_app import services
from scheduler_app.models import ScheduledTask, TaskExecutionLog
from tests.api.conftest import API
from tests.test_permissions_matrix import ACTIONS, CELLS, MATRIX, system_task
from tests.test_permissions_roles import fresh, make_role, share_for_role

VIEW = ACTIONS.index("view")


def call(client, action: str, task: ScheduledTask):  # noqa: ANN001, ANN201
    """Do ``action`` through the API; returns the response."""
    url = f"{API}tasks/{task.pk}/"
    if action == "schedule":
        body = {
            "module": "testmod",
            "task_type": "record",
            "schedule_type": "cron",
            "cron": "*/5 * * * *",
            "config": {"note": "mine"},
        }
        return client.post(f"{API}tasks/", body, format="json")
    if action == "view":
        return client.get(url)
    if action == "edit":
        return client.patch(url, {"name": "renamed", "config": {"note": "changed"}}, format="json")
    if action == "resume":
        services.pause(task, user=None)
        return client.post(url + "resume/")
    if action in ("pause", "cancel", "run"):
        return client.post(url + f"{action}/")
    if action == "clear lock":
        return client.post(url + "clear-lock/")
    if action == "delete":
        return client.delete(url)
    if action == "view logs":
        return client.get(url + "runs/")
    raise AssertionError(action)


SUCCESS = {"schedule": 201, "delete": 204}


def refused_status(role: str, action: str) -> int:
    if role == "anonymous":
        return 401
    if action != "schedule" and not MATRIX[role][VIEW]:
        return 404
    return 403


@pytest.mark.parametrize(
    ("role", "action", "allowed"), CELLS, ids=[f"{r}-{a}" for r, a, _ in CELLS]
)
def test_api_follows_the_matrix(scene, client_for, role, action, allowed):
    user, task = scene(role)
    client = client_for(None if isinstance(user, AnonymousUser) else user)
    before = ScheduledTask.objects.count()
    response = call(client, action, task)
    if allowed:
        assert response.status_code == SUCCESS.get(action, 200), response.content
    else:
        assert response.status_code == refused_status(role, action), response.content
        assert set(response.json()) == {"detail"}
        assert ScheduledTask.objects.count() == before
        stored = ScheduledTask.objects.get(pk=task.pk)
        assert (stored.name, stored.config) == (task.name, task.config)


@pytest.mark.parametrize("role", list(MATRIX))
def test_a_run_is_shown_to_those_who_may_see_the_task_logs(scene, client_for, role):
    user, task = scene(role)
    log = TaskExecutionLog.objects.get(task=task)
    client = client_for(None if isinstance(user, AnonymousUser) else user)
    response = client.get(f"{API}runs/{log.pk}/")
    if MATRIX[role][ACTIONS.index("view logs")]:
        assert response.status_code == 200
        assert response.json()["run_id"] == log.run_id
    else:
        assert response.status_code == (401 if role == "anonymous" else 404)


@pytest.mark.parametrize("role", [r for r in MATRIX if r != "anonymous"])
def test_nobody_changes_or_deletes_a_system_task_through_the_api(
    other_module, make_user, client_for, role
):
    owner, task = system_task(make_user)
    user = make_role(role, make_user, owner)
    share_for_role(role, user, task)
    client = client_for(fresh(user))
    url = f"{API}tasks/{task.pk}/"
    for response in (client.patch(url, {"name": "mine now"}, format="json"), client.delete(url)):
        if MATRIX[role][VIEW]:
            assert response.status_code == 403
            assert "system task" in response.json()["detail"]
        else:
            assert response.status_code == 404
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert stored.name != "mine now" and stored.status == "pending"

"""Every action for every role, against the service layer and the policy.

The matrix below is the documented one: docs/permissions.md shows it as a
table and ``test_docs_show_the_matrix`` keeps the two equal (run with
``UPDATE_PERMISSION_DOCS=1`` to rewrite the table after changing it here).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from scheduler_app import policy, services
from scheduler_app.engine import locks
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.policy import permissions
from tests.test_permissions_roles import (
    BASE,
    ROLES,
    fresh,
    make_role,
    register_other_module,
    share_for_role,
    unregister_other_module,
)

ACTIONS = (
    "schedule",
    "view",
    "edit",
    "pause",
    "resume",
    "cancel",
    "run",
    "delete",
    "view logs",
    "clear lock",
)

Y, N = True, False
#                          schedule view edit pause resume cancel run delete logs lock
MATRIX: dict[str, tuple[bool, ...]] = {
    "anonymous": (N, N, N, N, N, N, N, N, N, N),
    "plain staff": (N, N, N, N, N, N, N, N, N, N),
    "SA_SCHEDULER only": (N, N, N, N, N, N, N, N, N, N),
    "module user": (Y, Y, N, N, N, N, N, N, Y, N),
    "admin of another module": (N, N, N, N, N, N, N, N, N, N),
    "module admin": (Y, Y, Y, Y, Y, Y, Y, Y, Y, Y),
    "SA_SCHEDULER_VIEW": (N, Y, N, N, N, N, N, N, Y, N),
    "scheduler admin": (Y, Y, Y, Y, Y, Y, Y, Y, Y, Y),
    "superuser": (Y, Y, Y, Y, Y, Y, Y, Y, Y, Y),
    "owner": (Y, Y, Y, Y, Y, Y, Y, Y, Y, N),
    "shared user": (N, Y, N, Y, Y, N, Y, N, Y, N),
    "group member": (N, Y, Y, Y, Y, Y, Y, N, Y, N),
}
#: The policy's name for each matrix action.
POLICY_ACTION = {"view logs": policy.VIEW_LOGS}

CELLS = [(role, action, MATRIX[role][i]) for role in MATRIX for i, action in enumerate(ACTIONS)]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"


@pytest.fixture
def other_module(db):
    register_other_module()
    yield
    unregister_other_module()


@pytest.fixture
def scene(other_module, make_user):
    """A testmod task owned by a module user, plus the user in the role under test."""

    def build(role: str):
        owner = make_user(permissions.SCHEDULER, BASE)
        task = services.schedule(
            user=owner,
            module="testmod",
            task_type="record",
            schedule_type="cron",
            cron="0 * * * *",
            config={"note": "x"},
        )
        TaskExecutionLog.objects.create(
            task=task, run_id="r1", scheduled_for=timezone.now(), status=RunStatus.SUCCESS
        )
        user = make_role(role, make_user, owner)
        share_for_role(role, user, task)
        return fresh(user), ScheduledTask.objects.get(pk=task.pk)

    return build


def perform(action: str, user, task: ScheduledTask) -> None:  # noqa: ANN001
    """Do ``action`` through the service layer; PermissionDenied when refused."""
    if action == "schedule":
        services.schedule(
            user=user,
            module="testmod",
            task_type="record",
            schedule_type="cron",
            cron="*/5 * * * *",
            config={"note": "mine"},
        )
    elif action == "view":
        services.get_task(task.pk, user=user)
    elif action == "edit":
        services.update(task, user=user, name="renamed", config={"note": "changed"})
    elif action == "pause":
        services.pause(task, user=user)
    elif action == "resume":
        services.pause(task, user=None)
        services.resume(task, user=user)
    elif action == "cancel":
        services.cancel(task, user=user)
    elif action == "run":
        services.run_now(task, user=user)
    elif action == "delete":
        services.delete(task, user=user)
    elif action == "view logs":
        list(services.task_logs(task, user=user))
    elif action == "clear lock":
        locks.acquire_many({task.pk: 60}, "matrix")
        services.clear_lock(task, user=user)
        assert not locks.is_locked(task.pk)
    else:  # pragma: no cover
        raise AssertionError(action)


def policy_says(action: str, user, task: ScheduledTask) -> bool:  # noqa: ANN001
    if action == "schedule":
        return policy.can_schedule(user, "testmod", "record", {"note": "mine"})
    if action == "clear lock":
        return policy.can_clear_lock(user, task)
    return POLICY_ACTION.get(action, action) in policy.allowed_actions(user, task)


@pytest.mark.parametrize(
    ("role", "action", "allowed"), CELLS, ids=[f"{r}-{a}" for r, a, _ in CELLS]
)
def test_service_layer_follows_the_matrix(scene, role, action, allowed):
    user, task = scene(role)
    if allowed:
        perform(action, user, task)
    else:
        with pytest.raises((PermissionDenied, ScheduledTask.DoesNotExist)):
            perform(action, user, task)
        assert ScheduledTask.objects.filter(pk=task.pk, name=task.name, status=task.status).exists()
        if action == "clear lock":
            assert locks.is_locked(task.pk)


@pytest.mark.parametrize("role", list(MATRIX))
def test_policy_follows_the_matrix(scene, role):
    user, task = scene(role)
    said = tuple(policy_says(action, user, task) for action in ACTIONS)
    assert said == MATRIX[role]
    bulk = policy.allowed_actions_for(user, [task])[task.pk]
    assert bulk == policy.allowed_actions(user, task)
    assert (task in policy.viewable_queryset(user)) == MATRIX[role][ACTIONS.index("view")]
    logs = policy.viewable_logs(user).filter(task=task).exists()
    assert logs == MATRIX[role][ACTIONS.index("view logs")]


def system_task(make_user):  # noqa: ANN001, ANN201
    """A system task of testmod and the user it belongs to."""
    owner = make_user(permissions.SCHEDULER, BASE)
    task = services.schedule(
        user=None,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        is_system=True,
        owner=owner,
    )
    return owner, task


@pytest.mark.parametrize("role", list(MATRIX))
def test_nobody_edits_or_deletes_a_system_task(other_module, make_user, role):
    owner, task = system_task(make_user)
    user = make_role(role, make_user, owner)
    share_for_role(role, user, task)
    user = fresh(user)
    assert not policy.can_edit(user, task)
    assert not policy.can_delete(user, task)
    with pytest.raises(PermissionDenied):
        services.update(task, user=user, name="mine now")
    with pytest.raises(PermissionDenied):
        services.delete(task, user=user)
    assert ScheduledTask.objects.get(pk=task.pk).name != "mine now"


def markdown_table() -> str:
    header = "| role | who | " + " | ".join(ACTIONS) + " |"
    rule = "|" + "---|" * (len(ACTIONS) + 2)
    rows = [
        f"| {role} | {ROLES[role]} | " + " | ".join("yes" if c else "-" for c in cells) + " |"
        for role, cells in MATRIX.items()
    ]
    return "\n".join([header, rule, *rows])


def test_docs_show_the_matrix():
    text = DOCS.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    wanted = f"{before}{START}\n{markdown_table()}\n{END}{after}"
    if os.environ.get("UPDATE_PERMISSION_DOCS"):
        DOCS.write_text(wanted, encoding="utf-8")
        text = wanted
    assert text == wanted, "docs/permissions.md is out of date: rerun with UPDATE_PERMISSION_DOCS=1"


def test_every_role_is_documented():
    assert set(MATRIX) == set(ROLES)

"""Roles of the permission matrix and a second module to administer elsewhere.

Shared by tests/test_permissions_matrix.py and tests/test_security.py; no tests here.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import AnonymousUser, Group

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, services
from scheduler_app.policy import permissions
from scheduler_app.registry import registry
from tests.conftest import grant

MODULE = "testmod"
BASE = "scheduler_app.SA_TESTMOD"
ADMIN = "scheduler_app.SA_TESTMOD_ADMIN"
OTHER_ADMIN = "scheduler_app.SA_OTHERMOD_ADMIN"


class NoteForm(forms.Form):
    note = forms.CharField(required=False)


class OtherNoop(SchedulableTask):
    name = "Other no-op"
    config_form = NoteForm

    def execute(self, context):  # noqa: ANN001, ANN201
        return TaskResult.success()


class OtherProvider(TaskProvider):
    module_id = "othermod"
    name = "Other module"
    base_permission = "SA_OTHERMOD"
    task_types = {"noop": OtherNoop}


def register_other_module() -> None:
    registry.register(OtherProvider, strict=True)
    permissions.sync_permissions()


def unregister_other_module() -> None:
    if registry.is_registered(OtherProvider.module_id):
        registry.unregister(OtherProvider.module_id)


#: role -> who they are, as written into docs/permissions.md.
ROLES: dict[str, str] = {
    "anonymous": "not logged in",
    "plain staff": "`is_staff`, no permission",
    "SA_SCHEDULER only": "may schedule, but holds no module permission",
    "module user": "SA_SCHEDULER + SA_TESTMOD (the module's base permission)",
    "admin of another module": "SA_OTHERMOD_ADMIN only",
    "module admin": "SA_TESTMOD_ADMIN only",
    "SA_SCHEDULER_VIEW": "SA_SCHEDULER_VIEW only",
    "scheduler admin": "SA_SCHEDULER_ADMIN only",
    "superuser": "`is_superuser`",
    "owner": "scheduled the task (SA_SCHEDULER + SA_TESTMOD); holds its object permissions",
    "shared user": "no global permission; the task is shared with them at levels view + run",
    "group member": "no global permission; in a group the task is shared with at view + change",
}


def make_role(role: str, make_user, owner) -> object:  # noqa: ANN001
    """A user in ``role``; ``owner`` is the owner of the task under test."""
    if role == "anonymous":
        return AnonymousUser()
    if role == "owner":
        return owner
    perms = {
        "plain staff": (),
        "SA_SCHEDULER only": (permissions.SCHEDULER,),
        "module user": (permissions.SCHEDULER, BASE),
        "admin of another module": (OTHER_ADMIN,),
        "module admin": (ADMIN,),
        "SA_SCHEDULER_VIEW": (permissions.SCHEDULER_VIEW,),
        "scheduler admin": (permissions.SCHEDULER_ADMIN,),
        "superuser": (),
        "shared user": (),
        "group member": (),
    }[role]
    # Everybody is staff, so the admin lets them in and only our policy decides.
    return make_user(*perms, is_staff=True, is_superuser=role == "superuser")


def share_for_role(role: str, user, task) -> None:  # noqa: ANN001
    """Give the shared roles their object permissions (as the system)."""
    if role == "shared user":
        services.share(task, user=None, users=[user], permissions=["view", "run"])
    elif role == "group member":
        group = Group.objects.create(name=f"team-{task.pk}")
        user.groups.add(group)
        services.share(task, user=None, groups=[group], permissions=["view", "change"])


def fresh(user):  # noqa: ANN001, ANN201
    """The same user without cached permissions."""
    if isinstance(user, AnonymousUser):
        return user
    for cache in (
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
        "_scheduler_object_perms",
    ):
        user.__dict__.pop(cache, None)
    return user


__all__ = ["ROLES", "grant", "make_role", "share_for_role"]

"""The one access policy. Services, admin, views, forms and commands ask here.

Rules (DESIGN.md, Permissions):
1. schedule: SA_SCHEDULER + the module's base permission (+ the task type's
   required_permission for that config, if any);
2. view: own tasks + every task of a module whose base permission the user
   holds (read-only) + tasks shared with the user or their groups
   (guardian ``view_scheduledtask``); SA_SCHEDULER_VIEW sees everything;
3. edit and 4. cancel/pause/run: own tasks, or tasks shared through guardian
   ``change_scheduledtask`` / ``run_scheduledtask`` / ``delete_scheduledtask``;
5. module admin: everything in that module;
6. scheduler admin (and superusers): everything.
System tasks are never edited or deleted through the UI, by anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from scheduler_app import permissions
from scheduler_app.exceptions import NotRegistered
from scheduler_app.registry import registry

if TYPE_CHECKING:
    from scheduler_app.models import ScheduledTask

OBJECT_VIEW = "scheduler_app.view_scheduledtask"
OBJECT_CHANGE = "scheduler_app.change_scheduledtask"
OBJECT_DELETE = "scheduler_app.delete_scheduledtask"
OBJECT_RUN = "scheduler_app.run_scheduledtask"


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_scheduler_admin(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.has_perm(permissions.SCHEDULER_ADMIN))


def base_permission(module_id: str) -> str | None:
    try:
        provider = registry.get(module_id)
    except NotRegistered:
        return None
    return permissions.full_name(provider.base_permission) if provider.base_permission else None


def admin_permission(module_id: str) -> str | None:
    try:
        provider = registry.get(module_id)
    except NotRegistered:
        return None
    return permissions.full_name(provider.admin_permission_name())


def is_module_admin(user: Any, module_id: str) -> bool:
    if is_scheduler_admin(user):
        return True
    perm = admin_permission(module_id)
    return _active(user) and perm is not None and user.has_perm(perm)


def is_module_user(user: Any, module_id: str) -> bool:
    perm = base_permission(module_id)
    return _active(user) and perm is not None and user.has_perm(perm)


def can_schedule(user: Any, module_id: str, task_type: str | None = None,
                 config: dict[str, Any] | None = None) -> bool:
    """Rule 1 (module admins and scheduler admins may always schedule in their scope)."""
    if not _active(user):
        return False
    if not is_module_admin(user, module_id):
        if not (user.has_perm(permissions.SCHEDULER) and is_module_user(user, module_id)):
            return False
    if task_type is not None:
        try:
            task_cls = registry.get_task_type(module_id, task_type)
        except NotRegistered:
            return False
        extra = task_cls(key=task_type).required_permission(config or {})
        if extra and not (is_scheduler_admin(user) or user.has_perm(permissions.full_name(extra))):
            return False
    return True


def _is_owner(user: Any, task: ScheduledTask) -> bool:
    return _active(user) and task.owner_id is not None and task.owner_id == user.pk


def _has_object_perm(user: Any, perm: str, task: ScheduledTask) -> bool:
    # Only object-level grants count here: a global change_scheduledtask
    # (e.g. plain staff) must not open every task.
    from guardian.core import ObjectPermissionChecker

    checker = getattr(user, "_scheduler_guardian_checker", None)
    if checker is None:
        checker = ObjectPermissionChecker(user)
        user._scheduler_guardian_checker = checker
    return checker.has_perm(perm.split(".", 1)[1], task)


def can_view(user: Any, task: ScheduledTask) -> bool:
    """Rule 2."""
    if not _active(user):
        return False
    return (
        is_module_admin(user, task.module_id)
        or user.has_perm(permissions.SCHEDULER_VIEW)
        or _is_owner(user, task)
        or is_module_user(user, task.module_id)
        or _has_object_perm(user, OBJECT_VIEW, task)
        or _has_object_perm(user, OBJECT_CHANGE, task)
    )


def _can_manage(user: Any, task: ScheduledTask, object_perm: str) -> bool:
    if not _active(user):
        return False
    return (
        is_module_admin(user, task.module_id)
        or _is_owner(user, task)
        or _has_object_perm(user, object_perm, task)
    )


def can_edit(user: Any, task: ScheduledTask) -> bool:
    """Rule 3; system tasks are not edited by users."""
    return not task.is_system and _can_manage(user, task, OBJECT_CHANGE)


def can_run(user: Any, task: ScheduledTask) -> bool:
    """Rule 4: run now."""
    return _can_manage(user, task, OBJECT_RUN) or _can_manage(user, task, OBJECT_CHANGE)


def can_pause(user: Any, task: ScheduledTask) -> bool:
    """Rule 4: pause and resume."""
    return can_run(user, task)


def can_cancel(user: Any, task: ScheduledTask) -> bool:
    """Rule 4: cancel."""
    return _can_manage(user, task, OBJECT_CHANGE) or _can_manage(user, task, OBJECT_DELETE)


def can_delete(user: Any, task: ScheduledTask) -> bool:
    """Deleting is cancelling for good; system tasks are never deleted."""
    return not task.is_system and _can_manage(user, task, OBJECT_DELETE)


def viewable_queryset(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks ``user`` may see, as one queryset (constant number of queries)."""
    from scheduler_app.models import ScheduledTask

    qs = queryset if queryset is not None else ScheduledTask.objects.all()
    if not _active(user):
        return qs.none()
    if is_scheduler_admin(user) or user.has_perm(permissions.SCHEDULER_VIEW):
        return qs
    modules = [
        p.module_id for p in registry.providers()
        if is_module_admin(user, p.module_id) or is_module_user(user, p.module_id)
    ]
    from guardian.shortcuts import get_objects_for_user

    shared = get_objects_for_user(
        user, [OBJECT_VIEW, OBJECT_CHANGE], klass=ScheduledTask.objects.all(), any_perm=True,
        with_superuser=False, accept_global_perms=False,
    ).values("pk")
    return qs.filter(Q(owner=user) | Q(module_id__in=modules) | Q(pk__in=shared))


def schedulable_modules(user: Any) -> list[str]:
    """Modules in which ``user`` may create tasks."""
    return [p.module_id for p in registry.providers() if can_schedule(user, p.module_id)]

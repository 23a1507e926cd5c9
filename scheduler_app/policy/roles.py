"""Who the user is and what they may do in a module: roles, module rules, scheduling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from scheduler_app.exceptions import NotRegistered
from scheduler_app.policy import permissions
from scheduler_app.registry import registry

if TYPE_CHECKING:
    from scheduler_app.providers import SchedulableTask

# --- who the user is -------------------------------------------------------


def is_active_user(user: Any) -> bool:
    """Authenticated and active: inactive and anonymous users may do nothing."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def is_scheduler_admin(user: Any) -> bool:
    """Rule 6: superusers and holders of SA_SCHEDULER_ADMIN."""
    return is_active_user(user) and (
        user.is_superuser or user.has_perm(permissions.SCHEDULER_ADMIN)
    )


def can_view_all(user: Any) -> bool:
    """Scheduler admins and holders of SA_SCHEDULER_VIEW see every task."""
    return is_scheduler_admin(user) or (
        is_active_user(user) and user.has_perm(permissions.SCHEDULER_VIEW)
    )


def _module_permissions(module_id: str) -> permissions.ModulePermissions | None:
    try:
        return permissions.for_provider(registry.get(module_id))
    except NotRegistered:
        return None


def base_permission(module_id: str) -> str | None:
    """The full name of the module's base permission, or None for an unknown module."""
    perms = _module_permissions(module_id)
    return perms.base if perms else None


def admin_permission(module_id: str) -> str | None:
    """The full name of the module admin permission, or None for an unknown module."""
    perms = _module_permissions(module_id)
    return perms.admin if perms else None


def is_module_admin(user: Any, module_id: str) -> bool:
    """Rule 5 (scheduler admins administer every module)."""
    if is_scheduler_admin(user):
        return True
    perm = admin_permission(module_id)
    return is_active_user(user) and perm is not None and user.has_perm(perm)


def is_module_user(user: Any, module_id: str) -> bool:
    """Holds the module's base permission: sees all its tasks, read-only."""
    perm = base_permission(module_id)
    return is_active_user(user) and perm is not None and user.has_perm(perm)


def administered_modules(user: Any) -> list[str]:
    """Modules whose every task ``user`` manages."""
    return [p.module_id for p in registry.providers() if is_module_admin(user, p.module_id)]


def can_manage_calendars(user: Any) -> bool:
    """Blackout calendars are shared by every module: scheduler admins (or the model permission)."""
    return is_scheduler_admin(user) or (
        is_active_user(user) and user.has_perm("scheduler_app.change_blackoutcalendar")
    )


def can_see_every_calendar(user: Any) -> bool:
    """Calendars are shared by every module: those who manage them, read every task,
    administer a module or may schedule in one see (and may attach) every calendar."""
    return (
        can_manage_calendars(user)
        or can_view_all(user)
        or bool(administered_modules(user))
        or bool(schedulable_modules(user))
    )


def can_pause_module(user: Any, module_id: str | None) -> bool:
    """Pause windows: module admins for their module, scheduler admins for every module."""
    if not module_id:
        return is_scheduler_admin(user)
    return is_module_admin(user, module_id)


# --- scheduling ------------------------------------------------------------


def required_permissions(
    task_cls: type[SchedulableTask],
    config: dict[str, Any] | None,
) -> list[tuple[str, Any]]:
    """The task type's further permissions for this cleaned config, as (full name, obj or None)."""
    wanted = task_cls().required_permission(config or {})
    if wanted is None:
        return []
    if isinstance(wanted, (str, tuple)):
        wanted = [wanted]
    found: list[tuple[str, Any]] = []
    for item in wanted:
        if isinstance(item, str):
            found.append((permissions.full_name(item), None))
        else:
            perm, obj = item
            found.append((permissions.full_name(perm), obj))
    return found


def has_required_permissions(
    user: Any, task_cls: type[SchedulableTask], config: dict[str, Any] | None
) -> bool:
    """Whether ``user`` holds what the task type requires for this cleaned config.

    A ``(perm, obj)`` requirement is met by the global permission or by the
    guardian object permission on ``obj``. Superusers meet everything;
    scheduler and module admins do not get a pass: the requirement guards
    the object (e.g. one report), not the scheduler.
    """
    if not is_active_user(user):
        return False
    for perm, obj in required_permissions(task_cls, config):
        if user.has_perm(perm):
            continue
        if obj is None or not user.has_perm(perm, obj):
            return False
    return True


def _clean(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> dict[str, Any] | None:
    from scheduler_app import task_configs

    try:
        return task_configs.clean_config(task_cls, config)
    except ValidationError:
        return None


def can_schedule(
    user: Any, module_id: str, task_type: str | None = None, config: dict[str, Any] | None = None
) -> bool:
    """Rule 1. With ``task_type`` the type must exist; with ``config`` its
    required permissions are checked too (an invalid config is refused)."""
    if not is_active_user(user):
        return False
    if not is_module_admin(user, module_id) and not (
        user.has_perm(permissions.SCHEDULER) and is_module_user(user, module_id)
    ):
        return False
    if task_type is None:
        return True
    try:
        task_cls = registry.get_task_type(module_id, task_type)
    except NotRegistered:
        return False
    if config is None:
        return True
    cleaned = _clean(task_cls, config)
    return cleaned is not None and has_required_permissions(user, task_cls, cleaned)


def schedulable_modules(user: Any) -> list[str]:
    """Modules in which ``user`` may create tasks."""
    return [p.module_id for p in registry.providers() if can_schedule(user, p.module_id)]

"""Who is mailed: the task's owner and the module's admins (scheduler admins for the scheduler)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from scheduler_app import policy
from scheduler_app.policy import permissions

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _holders(permission: str | None) -> list[str]:
    """E-mail addresses of active users holding ``permission`` directly or by group."""
    if not permission:
        return []
    users = get_user_model()._default_manager.with_perm(
        permission, include_superusers=False, backend=_MODEL_BACKEND
    )
    return [
        email for email in users.filter(is_active=True).values_list("email", flat=True) if email
    ]


def for_task(module_id: str, owner_id: int | None) -> list[str]:
    """The owner's address and those of the module admins."""
    found: list[str] = []
    if owner_id is not None:
        owner = (
            get_user_model()
            ._default_manager.filter(pk=owner_id, is_active=True)
            .values_list("email", flat=True)
            .first()
        )
        if owner:
            found.append(owner)
    found += _holders(policy.admin_permission(module_id))
    return list(dict.fromkeys(found))


def for_scheduler() -> list[str]:
    """Scheduler-wide alerts (a silent scheduler) go to the scheduler admins."""
    return _holders(permissions.SCHEDULER_ADMIN)

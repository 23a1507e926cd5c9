"""Object permissions on tasks: the owner's, and sharing with users and groups.

``share`` / ``unshare`` / ``shared_with`` are also reachable as
``scheduler_app.services.share`` etc. Share levels are
``policy.SHARE_LEVELS``; what each level opens is in :mod:`scheduler_app.policy`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import AuditAction, ScheduledTask
from scheduler_app.services import audit


def grant_owner(task: ScheduledTask) -> None:
    """Give the owner every object permission on their task."""
    if task.owner_id is None:
        return
    from guardian.shortcuts import assign_perm

    for perm in policy.OBJECT_PERMS:
        assign_perm(perm, task.owner, task)


def clear_object_permissions(task: ScheduledTask) -> None:
    """Drop every object permission on ``task`` (before deleting it)."""
    # Guardian's generic rows do not cascade; a later task reusing the id must not inherit them.
    from django.contrib.contenttypes.models import ContentType
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    ctype = ContentType.objects.get_for_model(ScheduledTask)
    for model in (get_user_obj_perms_model(task), get_group_obj_perms_model(task)):
        model._default_manager.filter(content_type=ctype, object_pk=str(task.pk)).delete()


def _share_codenames(levels: Iterable[str]) -> list[str]:
    levels = [levels] if isinstance(levels, str) else list(levels)
    unknown = sorted(set(levels) - set(policy.SHARE_LEVELS))
    if unknown or not levels:
        raise ValidationError(
            {
                "permissions": _("Choose from: %(levels)s.")
                % {"levels": ", ".join(policy.SHARE_LEVELS)}
            },
            code="invalid_choice",
        )
    return [policy.SHARE_LEVELS[level] for level in levels]


def _recipients(users: Iterable[Any], groups: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    from django.contrib.auth.models import Group

    users, groups = list(users or ()), list(groups or ())
    if not users and not groups:
        raise ValidationError({"users": _("Name at least one user or group.")}, code="required")
    if any(not getattr(u, "pk", None) or isinstance(u, Group) for u in users):
        raise ValidationError({"users": _("Give saved user objects.")}, code="invalid")
    if any(not isinstance(g, Group) or not g.pk for g in groups):
        raise ValidationError({"groups": _("Give saved groups.")}, code="invalid")
    return users, groups


def share(
    task: ScheduledTask,
    *,
    user: Any,
    users: Iterable[Any] = (),
    groups: Iterable[Any] = (),
    permissions: Iterable[str] | str = ("view",),
) -> ScheduledTask:
    """Grant users and groups object permissions on ``task``.

    Parameters:
        permissions: share levels from ``policy.SHARE_LEVELS``: "view",
            "run" (run, pause, resume), "change" (edit, run, pause, resume,
            cancel), "delete" (delete, cancel). Every level includes viewing.

    Raises:
        PermissionDenied: unless ``user`` is the owner or a module/scheduler admin.
        ValidationError: for unknown levels or no recipient.

    Example::

        services.share(task, user=request.user, groups=[ops], permissions=["view", "run"])
    """
    from guardian.shortcuts import assign_perm

    codenames = _share_codenames(permissions)
    users, groups = _recipients(users, groups)
    with transaction.atomic():
        fresh = ScheduledTask.objects.select_for_update().get(pk=task.pk)
        if user is not None and not policy.can_share(user, fresh):
            raise PermissionDenied(_("You may not share this task."))
        for codename in codenames:
            for recipient in [*users, *groups]:
                assign_perm(codename, recipient, fresh)
        audit.record(
            fresh, AuditAction.SHARED, user=user, changes=_share_note(users, groups, permissions)
        )
    for recipient in users:
        policy.forget(recipient)
    return task


def unshare(
    task: ScheduledTask,
    *,
    user: Any,
    users: Iterable[Any] = (),
    groups: Iterable[Any] = (),
    permissions: Iterable[str] | str | None = None,
) -> ScheduledTask:
    """Withdraw shared object permissions (all levels unless ``permissions`` is given).

    The owner's own rights come from ownership and are not withdrawn.
    """
    from guardian.shortcuts import remove_perm

    codenames = (
        _share_codenames(permissions) if permissions is not None else list(policy.OBJECT_PERMS)
    )
    users, groups = _recipients(users, groups)
    with transaction.atomic():
        fresh = ScheduledTask.objects.select_for_update().get(pk=task.pk)
        if user is not None and not policy.can_share(user, fresh):
            raise PermissionDenied(_("You may not change the sharing of this task."))
        for codename in codenames:
            for recipient in [*users, *groups]:
                if getattr(recipient, "pk", None) == fresh.owner_id and recipient in users:
                    continue
                remove_perm(codename, recipient, fresh)
        audit.record(
            fresh,
            AuditAction.UNSHARED,
            user=user,
            changes=_share_note(users, groups, permissions or list(policy.SHARE_LEVELS)),
        )
    for recipient in users:
        policy.forget(recipient)
    return task


def _share_note(users: list[Any], groups: list[Any], levels: Iterable[str] | str) -> dict[str, Any]:
    return {
        "users": sorted(u.get_username() for u in users),
        "groups": sorted(g.name for g in groups),
        "permissions": [levels] if isinstance(levels, str) else sorted(levels),
    }


def shared_with(task: ScheduledTask) -> dict[str, dict[Any, list[str]]]:
    """Who the task is shared with: ``{"users": {user: [level, ...]}, "groups": {...}}``.

    The owner is left out. Two queries.
    """
    from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

    level_of = {codename: level for level, codename in policy.SHARE_LEVELS.items()}
    found: dict[str, dict[Any, list[str]]] = {"users": {}, "groups": {}}
    # With attach_perms=True guardian answers {user or group: [codename, ...]}.
    users = cast(
        dict[Any, list[str]],
        get_users_with_perms(
            task, attach_perms=True, with_superusers=False, with_group_users=False
        ),
    )
    groups = cast(dict[Any, list[str]], get_groups_with_perms(task, attach_perms=True))
    for who, codenames in users.items():
        if who.pk != task.owner_id:
            found["users"][who] = sorted(level_of[c] for c in codenames if c in level_of)
    for who, codenames in groups.items():
        found["groups"][who] = sorted(level_of[c] for c in codenames if c in level_of)
    return found

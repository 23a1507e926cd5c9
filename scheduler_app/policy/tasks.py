"""What a user may do to one task: action names, object permissions (guardian), actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scheduler_app.policy.roles import (
    administered_modules,
    can_view_all,
    is_active_user,
    is_module_admin,
    is_module_user,
    is_scheduler_admin,
)
from scheduler_app.registry import registry

if TYPE_CHECKING:
    from scheduler_app.models import ScheduledTask

VIEW, VIEW_LOGS, VIEW_HISTORY = "view", "view_logs", "view_history"
EDIT, PAUSE, RESUME, CANCEL, RUN, DELETE, SHARE = (
    "edit",
    "pause",
    "resume",
    "cancel",
    "run",
    "delete",
    "share",
)
#: Every action on an existing task, in display order.
TASK_ACTIONS: tuple[str, ...] = (
    VIEW,
    VIEW_LOGS,
    VIEW_HISTORY,
    EDIT,
    PAUSE,
    RESUME,
    RUN,
    CANCEL,
    DELETE,
    SHARE,
)
#: Every action, "schedule" (creating a task) included.
ACTIONS: tuple[str, ...] = ("schedule", *TASK_ACTIONS)
READ_ACTIONS = frozenset({VIEW, VIEW_LOGS, VIEW_HISTORY})

OBJECT_VIEW = "view_scheduledtask"
OBJECT_CHANGE = "change_scheduledtask"
OBJECT_RUN = "run_scheduledtask"
OBJECT_DELETE = "delete_scheduledtask"
OBJECT_PERMS = (OBJECT_VIEW, OBJECT_CHANGE, OBJECT_RUN, OBJECT_DELETE)
#: Share levels accepted by ``services.share`` -> the guardian codename they grant.
SHARE_LEVELS = {
    "view": OBJECT_VIEW,
    "change": OBJECT_CHANGE,
    "run": OBJECT_RUN,
    "delete": OBJECT_DELETE,
}

_OPENED_BY = {
    OBJECT_VIEW: READ_ACTIONS,
    OBJECT_CHANGE: READ_ACTIONS | {EDIT, PAUSE, RESUME, RUN, CANCEL},
    OBJECT_RUN: READ_ACTIONS | {RUN, PAUSE, RESUME},
    OBJECT_DELETE: READ_ACTIONS | {DELETE, CANCEL},
}
_NEVER_ON_SYSTEM = frozenset({EDIT, DELETE})
_CACHE_ATTR = "_scheduler_object_perms"


# --- object permissions ----------------------------------------------------


def object_permission_models() -> tuple[Any, Any, Any]:
    """The task content type and guardian's user and group object-permission models."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    from scheduler_app.models import ScheduledTask

    return (
        ContentType.objects.get_for_model(ScheduledTask),
        get_user_obj_perms_model(ScheduledTask),  # type: ignore[arg-type]  # a class works too
        get_group_obj_perms_model(ScheduledTask),  # type: ignore[arg-type]
    )


def _object_perms(user: Any, pks: Iterable[int]) -> dict[int, set[str]]:
    """{pk: codenames} granted to ``user`` or their groups; one query for all missing pks."""
    cache: dict[int, set[str]] | None = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(user, _CACHE_ATTR, cache)
    missing = sorted({pk for pk in pks if pk is not None and pk not in cache})
    if missing:
        ctype, user_model, group_model = object_permission_models()
        keys = [str(pk) for pk in missing]
        mine = user_model.objects.filter(user_id=user.pk, content_type=ctype, object_pk__in=keys)
        groups = group_model.objects.filter(
            group__user=user.pk, content_type=ctype, object_pk__in=keys
        )
        rows = mine.values_list("object_pk", "permission__codename").union(
            groups.values_list("object_pk", "permission__codename")
        )
        for pk in missing:
            cache[pk] = set()
        for object_pk, codename in rows:
            cache.setdefault(int(object_pk), set()).add(codename)
    return cache


def forget(user: Any) -> None:
    """Drop the object permissions cached on ``user`` (after sharing changes)."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _actions(
    user: Any,
    task: ScheduledTask,
    object_perms: dict[int, set[str]] | None,
) -> frozenset[str]:
    if not is_active_user(user):
        return frozenset()
    if is_module_admin(user, task.module_id):
        allowed = set(TASK_ACTIONS)
    else:
        allowed = set()
        if can_view_all(user) or is_module_user(user, task.module_id):
            allowed |= READ_ACTIONS
        if task.owner_id is not None and task.owner_id == user.pk:
            granted: Iterable[str] = OBJECT_PERMS
            allowed.add(SHARE)
        else:
            perms = object_perms if object_perms is not None else _object_perms(user, [task.pk])
            granted = perms.get(task.pk, ())
        for codename in granted:
            allowed |= _OPENED_BY.get(codename, frozenset())
    if task.is_system:
        allowed -= _NEVER_ON_SYSTEM
    return frozenset(allowed)


def allowed_actions(user: Any, task: ScheduledTask) -> frozenset[str]:
    """The names in TASK_ACTIONS that ``user`` may perform on ``task``, whatever its status."""
    return _actions(user, task, None)


def allowed_actions_for(user: Any, tasks: Iterable[ScheduledTask]) -> dict[int, frozenset[str]]:
    """``allowed_actions`` for many tasks at once: {task.pk: actions}, one query at most."""
    tasks = list(tasks)
    perms = None
    if is_active_user(user) and not is_scheduler_admin(user):
        perms = _object_perms(
            user,
            [
                t.pk
                for t in tasks
                if t.owner_id != user.pk and not is_module_admin(user, t.module_id)
            ],
        )
    return {t.pk: _actions(user, t, perms) for t in tasks}


def actions_on_some_task(user: Any) -> frozenset[str]:
    """The task actions ``user`` may take on at least one task: the ones worth offering.

    Admins of any module may take every action; an owner every action on their
    tasks; shared users what their object permissions open. Two queries at most.
    """
    from scheduler_app.models import ScheduledTask

    if not is_active_user(user):
        return frozenset()
    if administered_modules(user):
        return frozenset(TASK_ACTIONS)
    allowed: set[str] = set()
    owned = ScheduledTask.objects.filter(owner_id=user.pk).order_by()
    for is_system in owned.values_list("is_system", flat=True).distinct()[:2]:
        allowed |= set(TASK_ACTIONS) - (_NEVER_ON_SYSTEM if is_system else set())
    if allowed >= set(TASK_ACTIONS):
        return frozenset(allowed)
    ctype, user_model, group_model = object_permission_models()
    codenames = (
        user_model.objects.filter(user_id=user.pk, content_type=ctype)
        .values_list("permission__codename", flat=True)
        .union(
            group_model.objects.filter(group__user=user.pk, content_type=ctype).values_list(
                "permission__codename", flat=True
            )
        )
    )
    for codename in codenames:
        allowed |= _OPENED_BY.get(codename, frozenset())
    if can_view_all(user) or any(is_module_user(user, p.module_id) for p in registry.providers()):
        allowed |= READ_ACTIONS
    return frozenset(allowed)


def possible_actions(task: ScheduledTask) -> frozenset[str]:
    """Actions the task's status allows, whoever asks."""
    from scheduler_app.models import TaskStatus

    possible = set(TASK_ACTIONS)
    if task.status != TaskStatus.PENDING:
        possible.discard(PAUSE)
    if task.status != TaskStatus.PAUSED:
        possible.discard(RESUME)
    if task.status == TaskStatus.CANCELLED:
        possible.discard(CANCEL)
    if task.status in (TaskStatus.RUNNING, TaskStatus.CANCELLED):
        possible.discard(RUN)
    return frozenset(possible)


def available_actions(user: Any, task: ScheduledTask) -> frozenset[str]:
    """Allowed for ``user`` and possible now: the buttons to show."""
    return allowed_actions(user, task) & possible_actions(task)


def can_view(user: Any, task: ScheduledTask) -> bool:
    """Rule 2."""
    return VIEW in allowed_actions(user, task)


def can_view_logs(user: Any, task: ScheduledTask) -> bool:
    return VIEW_LOGS in allowed_actions(user, task)


def can_view_history(user: Any, task: ScheduledTask) -> bool:
    return VIEW_HISTORY in allowed_actions(user, task)


def can_edit(user: Any, task: ScheduledTask) -> bool:
    """Rule 3; system tasks are not edited by users."""
    return EDIT in allowed_actions(user, task)


def can_pause(user: Any, task: ScheduledTask) -> bool:
    """Rule 4."""
    return PAUSE in allowed_actions(user, task)


def can_resume(user: Any, task: ScheduledTask) -> bool:
    """Rule 4."""
    return RESUME in allowed_actions(user, task)


def can_run(user: Any, task: ScheduledTask) -> bool:
    """Rule 4: run now."""
    return RUN in allowed_actions(user, task)


def can_cancel(user: Any, task: ScheduledTask) -> bool:
    """Rule 4."""
    return CANCEL in allowed_actions(user, task)


def can_delete(user: Any, task: ScheduledTask) -> bool:
    """Owners and admins; system tasks are never deleted by users."""
    return DELETE in allowed_actions(user, task)


def can_share(user: Any, task: ScheduledTask) -> bool:
    """The owner and admins grant object permissions; shared users cannot re-share."""
    return SHARE in allowed_actions(user, task)


def can_clear_lock(user: Any, task: ScheduledTask) -> bool:
    """Overlap locks are an operator's tool: module admins for their module, scheduler admins.

    Clearing a lock lets a second run start beside one that may still be
    alive, so running or editing a task is not enough.
    """
    return is_module_admin(user, task.module_id)

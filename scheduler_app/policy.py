"""The one access policy. Services, admin, views, forms and commands ask here.

Rules (DESIGN.md, Permissions; the full matrix is docs/permissions.md):

1. schedule: SA_SCHEDULER + the module's base permission (+ the task type's
   ``required_permission`` for that config, if any); module admins may
   schedule in their module without SA_SCHEDULER;
2. view: own tasks + every task of a module whose base permission the user
   holds (read-only) + tasks shared with the user or their groups;
   SA_SCHEDULER_VIEW sees every task, read-only;
3. edit and 4. cancel/pause/resume/run: own tasks, or tasks shared through
   guardian object permissions;
5. module admin: everything in that module;
6. scheduler admin (SA_SCHEDULER_ADMIN, and superusers): everything.

System tasks are never edited or deleted by a user, whoever it is. Inactive
and anonymous users may do nothing.

Object permissions (django-guardian, on ScheduledTask) and what they open:

    view_scheduledtask    view, view_logs, view_history
    change_scheduledtask  + edit, pause, resume, run, cancel
    run_scheduledtask     + run, pause, resume
    delete_scheduledtask  + delete, cancel

The owner holds all four (``services.schedule`` assigns them) and may share.

Public names (stable; the admin, views and commands use them):

    ACTIONS, TASK_ACTIONS, READ_ACTIONS, SHARE_LEVELS
    is_scheduler_admin(user), can_view_all(user)
    is_module_user(user, module_id), is_module_admin(user, module_id)
    can_manage_calendars(user), can_pause_module(user, module_id or None)
    base_permission(module_id), admin_permission(module_id)
    required_permissions(task_cls, config) -> [(perm, obj | None), ...]
    has_required_permissions(user, task_cls, config) -> bool
    can_schedule(user, module_id, task_type=None, config=None) -> bool
    schedulable_modules(user), administered_modules(user) -> [module_id, ...]
    allowed_actions(user, task) -> frozenset of action names
    allowed_actions_for(user, tasks) -> {task.pk: frozenset}   (bulk, 1 query)
    actions_on_some_task(user) -> frozenset   (what to offer on a list, 2 queries)
    possible_actions(task) -> what the task's status permits, whoever asks
    available_actions(user, task) -> allowed and possible: the buttons to show
    can_view, can_view_logs, can_view_history, can_edit, can_pause, can_resume,
    can_cancel, can_run, can_delete, can_share (user, task) -> bool
    can_clear_lock(user, task) -> bool      overlap locks: module and scheduler admins
    lock_clearable_queryset(user, queryset=None)   tasks whose lock ``user`` may clear
    viewable_queryset(user, queryset=None)   one lazy queryset
    viewable_logs(user, queryset=None)       execution logs of viewable tasks
    can_see_every_calendar(user), viewable_calendars(user, queryset=None)
    forget(user)                             drop cached object permissions

In a template: ``{% if "edit" in actions %}`` with
``actions = policy.allowed_actions(request.user, task)``; for a changelist,
``policy.allowed_actions_for(request.user, page_of_tasks)`` costs one query
whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast

from scheduler_app import permissions
from scheduler_app.exceptions import NotRegistered
from scheduler_app.registry import registry

if TYPE_CHECKING:
    from scheduler_app.models import ScheduledTask
    from scheduler_app.providers import SchedulableTask

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


# --- who the user is -------------------------------------------------------


def _active(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def is_scheduler_admin(user: Any) -> bool:
    """Rule 6: superusers and holders of SA_SCHEDULER_ADMIN."""
    return _active(user) and (user.is_superuser or user.has_perm(permissions.SCHEDULER_ADMIN))


def can_view_all(user: Any) -> bool:
    """Scheduler admins and holders of SA_SCHEDULER_VIEW see every task."""
    return is_scheduler_admin(user) or (_active(user) and user.has_perm(permissions.SCHEDULER_VIEW))


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
    return _active(user) and perm is not None and user.has_perm(perm)


def is_module_user(user: Any, module_id: str) -> bool:
    """Holds the module's base permission: sees all its tasks, read-only."""
    perm = base_permission(module_id)
    return _active(user) and perm is not None and user.has_perm(perm)


def administered_modules(user: Any) -> list[str]:
    """Modules whose every task ``user`` manages."""
    return [p.module_id for p in registry.providers() if is_module_admin(user, p.module_id)]


def can_manage_calendars(user: Any) -> bool:
    """Blackout calendars are shared by every module: scheduler admins (or the model permission)."""
    return is_scheduler_admin(user) or (
        _active(user) and user.has_perm("scheduler_app.change_blackoutcalendar")
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
    if not _active(user):
        return False
    for perm, obj in required_permissions(task_cls, config):
        if user.has_perm(perm):
            continue
        if obj is None or not user.has_perm(perm, obj):
            return False
    return True


def _clean(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> dict[str, Any] | None:
    from scheduler_app import configs

    try:
        return configs.clean_config(task_cls, config)
    except ValidationError:
        return None


def can_schedule(
    user: Any, module_id: str, task_type: str | None = None, config: dict[str, Any] | None = None
) -> bool:
    """Rule 1. With ``task_type`` the type must exist; with ``config`` its
    required permissions are checked too (an invalid config is refused)."""
    if not _active(user):
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


# --- object permissions ----------------------------------------------------


def _object_permission_models() -> tuple[Any, Any, Any]:
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
        ctype, user_model, group_model = _object_permission_models()
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
    if not _active(user):
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
    if _active(user) and not is_scheduler_admin(user):
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

    if not _active(user):
        return frozenset()
    if administered_modules(user):
        return frozenset(TASK_ACTIONS)
    allowed: set[str] = set()
    owned = ScheduledTask.objects.filter(owner_id=user.pk).order_by()
    for is_system in owned.values_list("is_system", flat=True).distinct()[:2]:
        allowed |= set(TASK_ACTIONS) - (_NEVER_ON_SYSTEM if is_system else set())
    if allowed >= set(TASK_ACTIONS):
        return frozenset(allowed)
    ctype, user_model, group_model = _object_permission_models()
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


# --- lists -----------------------------------------------------------------


def _shared_pks(user: Any) -> tuple[QuerySet, QuerySet]:
    ctype, user_model, group_model = _object_permission_models()
    mine = user_model.objects.filter(
        user_id=user.pk, content_type=ctype, permission__codename__in=OBJECT_PERMS
    )
    groups = group_model.objects.filter(
        group__user=user.pk, content_type=ctype, permission__codename__in=OBJECT_PERMS
    )
    # The cast runs on the few rows of this user only, never on the whole table.
    as_pk = Cast("object_pk", BigIntegerField())
    return (
        mine.annotate(task_pk=as_pk).values("task_pk"),
        groups.annotate(task_pk=as_pk).values("task_pk"),
    )


def viewable_queryset(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks ``user`` may see, as one lazy queryset (a constant number of queries)."""
    from scheduler_app.models import ScheduledTask

    qs = queryset if queryset is not None else ScheduledTask.objects.all()
    if not _active(user):
        return qs.none()
    if can_view_all(user):
        return qs
    modules = [
        p.module_id
        for p in registry.providers()
        if is_module_admin(user, p.module_id) or is_module_user(user, p.module_id)
    ]
    mine, groups = _shared_pks(user)
    return qs.filter(
        Q(owner_id=user.pk) | Q(module_id__in=modules) | Q(pk__in=mine) | Q(pk__in=groups)
    )


def lock_clearable_queryset(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks whose lock ``user`` may clear, as one lazy queryset."""
    from scheduler_app.models import ScheduledTask

    qs = queryset if queryset is not None else ScheduledTask.objects.all()
    if is_scheduler_admin(user):
        return qs
    return qs.filter(module_id__in=administered_modules(user))


def viewable_logs(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """Execution logs of the tasks ``user`` may see."""
    from scheduler_app.models import TaskExecutionLog

    qs = queryset if queryset is not None else TaskExecutionLog.objects.all()
    if not _active(user):
        return qs.none()
    if can_view_all(user):
        return qs
    return qs.filter(task__in=viewable_queryset(user).values("pk"))


def viewable_calendars(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """Blackout calendars ``user`` may see: every one (``can_see_every_calendar``),
    otherwise those attached to a task the user may view."""
    from scheduler_app.models import BlackoutCalendar

    qs = queryset if queryset is not None else BlackoutCalendar.objects.all()
    if not _active(user):
        return qs.none()
    if can_see_every_calendar(user):
        return qs
    return qs.filter(pk__in=viewable_queryset(user).values("calendars"))

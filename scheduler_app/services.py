"""Use cases. Outside the engine, the only writer of task state.

Every function takes the acting ``user`` and asks :mod:`scheduler_app.policy`;
``user=None`` means the system itself (management commands run as system
unless given ``--as-user``). Errors are ``PermissionDenied`` or
``ValidationError`` with field-level messages.

Access is always decided on the row as stored, re-read under a row lock,
never on the instance passed in (a form may have changed it in memory).
Every change is written to the task's history (:mod:`scheduler_app.audit`).
Config secrets (``secret_fields``) are masked in signals and history, and an
edit that sends a secret back masked or empty keeps the stored one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import audit, conf, configs, policy, schedules
from scheduler_app.exceptions import InvalidTransition, NotRegistered
from scheduler_app.models import (
    AuditAction,
    MisfirePolicy,
    ScheduledTask,
    ScheduleType,
    TaskStatus,
    check_transition,
)
from scheduler_app.providers import SchedulableTask
from scheduler_app.registry import registry
from scheduler_app.signals import send_lifecycle, task_cancelled, task_scheduled

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
OWNER_OBJECT_PERMS = policy.OBJECT_PERMS
# Fields a caller may change with update(); module, type, owner and is_system are fixed.
EDITABLE_FIELDS = {
    "name", "config", "schedule_type", "cron", "run_at", "interval", "event", "timezone",
    "priority", "max_retries", "timeout", "allow_overlap", "tags", "enabled",
    "misfire_policy", "misfire_grace",
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


def resolve_task_type(module: str, task_type: str) -> type[SchedulableTask]:
    """The task type class, or a ValidationError naming the known ones."""
    try:
        provider = registry.get(module)
    except NotRegistered:
        raise ValidationError(
            {"module": _("Unknown module “%(module)s”. Known modules: %(known)s.")
             % {"module": module, "known": registry.known_modules_text()}},
            code="unknown_module",
        ) from None
    if task_type not in provider.task_types:
        raise ValidationError(
            {"task_type": _("Module “%(module)s” has no task type “%(type)s”. Known: %(known)s.")
             % {"module": module, "type": task_type,
                "known": ", ".join(sorted(provider.task_types)) or "-"}},
            code="unknown_task_type",
        )
    return provider.task_types[task_type]


def build_schedule(schedule_type: str, *, cron: str | None = None, run_at: dt.datetime | None = None,
                   interval: Any = None, event: str | None = None, timezone_name: str | None = None,
                   now: dt.datetime | None = None, check_past: bool = True) -> schedules.Schedule:
    """A validated Schedule from the public keyword arguments."""
    every, unit = (None, "")
    if schedule_type == schedules.RECURRING:
        if interval is None:
            raise ValidationError({"interval": _("Give the interval, e.g. “15 minutes”.")},
                                  code="required")
        every, unit = schedules.parse_interval(interval)
    raw = schedules.Schedule(
        type=schedule_type, cron=cron or "", run_at=run_at, interval_every=every,
        interval_unit=unit, event=event or "", timezone=(timezone_name or "UTC"),
    )
    return raw.validate(_now(now), check_past=check_past)


def _clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\s]+", tags) if t]
    cleaned = []
    for tag in tags:
        value = str(tag).strip().lower()
        if not TAG_RE.match(value):
            raise ValidationError(
                {"tags": _("“%(tag)s” is not a valid tag: use lowercase letters, digits, - and _.")
                 % {"tag": tag}}, code="invalid_tag")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _check_range(field: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}, code="invalid") from None
    if not low <= number <= high:
        raise ValidationError({field: _("Enter a number from %(low)d to %(high)d.")
                               % {"low": low, "high": high}}, code="out_of_range")
    return number


def _apply_schedule(task: ScheduledTask, schedule: schedules.Schedule, now: dt.datetime) -> None:
    task.schedule_type = schedule.type
    task.cron_expression = schedule.cron
    task.run_at = schedule.run_at
    task.interval_every = schedule.interval_every
    task.interval_unit = schedule.interval_unit
    task.event_name = schedule.event
    task.timezone = schedule.timezone
    first = schedule.first_run(now, anchor=now)
    task.next_run = first
    task.occurrence_at = first
    task.retry_count = 0


def schedule(*, user: Any, module: str, task_type: str, config: dict[str, Any] | None = None,
             schedule_type: str, cron: str | None = None, run_at: dt.datetime | None = None,
             interval: Any = None, event: str | None = None, condition: str | None = None,
             timezone: str | None = None, name: str | None = None, priority: int = 5,
             max_retries: int | None = None, timeout: int | None = None,
             allow_overlap: bool = False, tags: Iterable[str] = (),
             misfire_policy: str = MisfirePolicy.RUN_ONCE, misfire_grace: int | None = None,
             owner: Any = None, is_system: bool = False, now: dt.datetime | None = None,
             ) -> ScheduledTask:
    """Create a scheduled task after validating everything; nothing is saved on error.

    ``condition`` is accepted for conditional schedules as a note of which
    condition is meant; the task type's ``condition(context)`` decides.
    """
    now = _now(now)
    task_cls = resolve_task_type(module, task_type)
    if user is not None:
        _check_may_schedule(user, module, task_type, owner=owner, is_system=is_system)
    settings = conf.get()
    sched = build_schedule(schedule_type, cron=cron, run_at=run_at, interval=interval, event=event,
                           timezone_name=timezone, now=now)
    _refuse_masked_secrets(task_cls, config)
    cleaned = configs.clean_config(task_cls, config)
    if user is not None and not policy.has_required_permissions(user, task_cls, cleaned):
        raise _deny(_("You may not schedule “%(key)s” with this configuration.")
                    % {"key": f"{module}.{task_type}"})
    stored_config = configs.to_json(cleaned)
    task = ScheduledTask(
        module_id=module, task_type=task_type,
        name=(name or "").strip() or str(task_cls.name or task_type),
        config=stored_config,
        owner=owner if owner is not None else (user if user is not None else None),
        priority=_check_range("priority", priority, 1, 10),
        max_retries=_check_range(
            "max_retries",
            max_retries if max_retries is not None else (
                task_cls.default_max_retries if task_cls.default_max_retries is not None
                else settings.DEFAULT_MAX_RETRIES), 0, 100),
        timeout=_check_range(
            "timeout",
            timeout if timeout is not None else (task_cls.default_timeout or settings.DEFAULT_TIMEOUT),
            1, 7 * 24 * 3600),
        allow_overlap=bool(allow_overlap),
        tags=_clean_tags(tags),
        misfire_policy=_check_choice("misfire_policy", misfire_policy, MisfirePolicy.values),
        misfire_grace=None if misfire_grace is None else _check_range(
            "misfire_grace", misfire_grace, 0, 365 * 24 * 3600),
        is_system=is_system,
        created_by=user, updated_by=user,
    )
    if len(task.name) > 200:
        raise ValidationError({"name": _("Keep the name under 200 characters.")}, code="max_length")
    _apply_schedule(task, sched, now)
    with transaction.atomic():
        task.save()
        _grant_owner(task)
        audit.record(task, AuditAction.CREATED, user=user, at=now,
                     changes={"owner": _username(task.owner)} if task.owner_id != _pk(user) else None)
    _send(task_scheduled, "task.scheduled", task)
    return task


def _pk(user: Any) -> Any:
    return getattr(user, "pk", None)


def _username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _check_may_schedule(user: Any, module: str, task_type: str, *, owner: Any,
                        is_system: bool) -> None:
    if not policy.can_schedule(user, module, task_type):
        raise _deny(_("You may not schedule “%(key)s” tasks.") % {"key": f"{module}.{task_type}"})
    if is_system and not policy.is_scheduler_admin(user):
        raise _deny(_("Only scheduler administrators may create system tasks."))
    if owner is not None and _pk(owner) != _pk(user) and not policy.is_module_admin(user, module):
        raise _deny(_("Only module administrators may schedule a task for someone else."))


def _refuse_masked_secrets(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> None:
    # A new task has no stored secret to keep: the mask itself must not be saved as one.
    masked = [key for key in task_cls.secret_fields
              if isinstance(config, dict) and config.get(key) == configs.SECRET_MASK]
    if masked:
        raise ValidationError({key: _("Enter the value.") for key in masked}, code="masked_secret")


def _send(signal: Any, event: str, task: ScheduledTask) -> None:
    """Send a lifecycle signal after commit, with ``config`` masked beside ``task``."""
    shown = configs.masked_config(task)
    transaction.on_commit(lambda: send_lifecycle(signal, event, task=task, config=shown))


def _check_choice(field: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        raise ValidationError({field: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}},
                              code="invalid_choice")
    return value


def _grant_owner(task: ScheduledTask) -> None:
    if task.owner_id is None:
        return
    from guardian.shortcuts import assign_perm

    for perm in OWNER_OBJECT_PERMS:
        assign_perm(perm, task.owner, task)


def update(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None, **changes: Any,
           ) -> ScheduledTask:
    """Change editable fields; the schedule is re-validated and next_run recomputed.

    module_id, task_type, owner, is_system, status and the run fields are not
    editable: naming one is a ValidationError. A new config needs the task
    type's required permissions for the editor too. ``task`` is refreshed in
    place from the saved row and returned.
    """
    now = _now(now)
    with transaction.atomic():
        fresh = _locked(task)
        if user is not None and not policy.can_edit(user, fresh):
            raise _deny(_("You may not edit this task."))
        forbidden = set(changes) - EDITABLE_FIELDS
        if forbidden:
            raise ValidationError({f: _("This field cannot be changed.") for f in sorted(forbidden)},
                                  code="not_editable")
        before = audit.snapshot(fresh)
        _apply_changes(fresh, changes, user=user, now=now)
        fresh.updated_by = user
        fresh.save()
        changed = audit.diff(before, audit.snapshot(fresh), secrets=audit.secret_keys(fresh))
        if changed:
            audit.record(fresh, AuditAction.EDITED, user=user, changes=changed, at=now)
    return _sync(task, fresh)


def _apply_changes(task: ScheduledTask, changes: dict[str, Any], *, user: Any,
                   now: dt.datetime) -> None:
    task_cls = resolve_task_type(task.module_id, task.task_type)
    if "config" in changes:
        merged = configs.merge_secrets(task_cls, task.config, changes["config"] or {})
        cleaned = configs.clean_config(task_cls, merged)
        if user is not None and not policy.has_required_permissions(user, task_cls, cleaned):
            raise _deny(_("You may not use this configuration."))
        task.config = configs.to_json(cleaned)
    schedule_keys = {"schedule_type", "cron", "run_at", "interval", "event", "timezone"}
    if schedule_keys & set(changes):
        current = task.schedule
        sched = build_schedule(
            changes.get("schedule_type", task.schedule_type),
            cron=changes.get("cron", current.cron),
            run_at=changes.get("run_at", current.run_at),
            interval=changes.get("interval", (current.interval_every, current.interval_unit)
                                 if current.interval_every else None),
            event=changes.get("event", current.event),
            timezone_name=changes.get("timezone", current.timezone),
            now=now,
        )
        _apply_schedule(task, sched, now)
    if "name" in changes:
        name = str(changes["name"]).strip() or task.name
        if len(name) > 200:
            raise ValidationError({"name": _("Keep the name under 200 characters.")},
                                  code="max_length")
        task.name = name
    if "priority" in changes:
        task.priority = _check_range("priority", changes["priority"], 1, 10)
    if "max_retries" in changes:
        task.max_retries = _check_range("max_retries", changes["max_retries"], 0, 100)
    if "timeout" in changes:
        task.timeout = _check_range("timeout", changes["timeout"], 1, 7 * 24 * 3600)
    if "allow_overlap" in changes:
        task.allow_overlap = bool(changes["allow_overlap"])
    if "enabled" in changes:
        task.enabled = bool(changes["enabled"])
    if "tags" in changes:
        task.tags = _clean_tags(changes["tags"])
    if "misfire_policy" in changes:
        task.misfire_policy = _check_choice("misfire_policy", changes["misfire_policy"],
                                            MisfirePolicy.values)
    if "misfire_grace" in changes:
        grace = changes["misfire_grace"]
        task.misfire_grace = None if grace in (None, "") else _check_range(
            "misfire_grace", grace, 0, 365 * 24 * 3600)
    if task.status in (TaskStatus.FAILED, TaskStatus.SUCCESS) and task.next_run and task.next_run > now:
        # A finished task given a new future schedule is live again.
        _transition(task, TaskStatus.PENDING)


def _transition(task: ScheduledTask, target: str) -> None:
    try:
        check_transition(task.status, target)
    except InvalidTransition as exc:
        raise ValidationError({"status": str(exc)}, code="invalid_transition") from None
    task.status = target


def _locked(task: ScheduledTask) -> ScheduledTask:
    """Re-read the task under a row lock so concurrent changes serialise."""
    try:
        return ScheduledTask.objects.select_for_update().get(pk=task.pk)
    except ScheduledTask.DoesNotExist:
        raise ValidationError(_("This task no longer exists."), code="gone") from None


def _sync(task: ScheduledTask, fresh: ScheduledTask) -> ScheduledTask:
    """Copy the saved state onto the caller's instance (undoing any in-memory edits)."""
    if task is not fresh:
        for field in ScheduledTask._meta.concrete_fields:
            setattr(task, field.attname, getattr(fresh, field.attname))
    return task


def _check(allowed: bool, message: str) -> None:
    if not allowed:
        raise _deny(message)


def cancel(task: ScheduledTask, *, user: Any) -> ScheduledTask:
    """Stop the task for good (it stays in the list with its history)."""
    with transaction.atomic():
        fresh = _locked(task)
        if user is not None:
            _check(policy.can_cancel(user, fresh), _("You may not cancel this task."))
        _transition(fresh, TaskStatus.CANCELLED)
        fresh.next_run = None
        fresh.updated_by = user
        fresh.save(update_fields=["status", "next_run", "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.CANCELLED, user=user)
    _send(task_cancelled, "task.cancelled", fresh)
    return _sync(task, fresh)


def pause(task: ScheduledTask, *, user: Any) -> ScheduledTask:
    """Stop running the task until it is resumed."""
    with transaction.atomic():
        fresh = _locked(task)
        if user is not None:
            _check(policy.can_pause(user, fresh), _("You may not pause this task."))
        if fresh.status == TaskStatus.RUNNING:
            raise ValidationError({"status": _("The task is running; pause it when the run ends.")},
                                  code="running")
        _transition(fresh, TaskStatus.PAUSED)
        fresh.updated_by = user
        fresh.save(update_fields=["status", "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.PAUSED, user=user)
    return _sync(task, fresh)


def resume(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None) -> ScheduledTask:
    """Back to pending; the next run is the next slot from now (missed ones are not replayed)."""
    now = _now(now)
    with transaction.atomic():
        fresh = _locked(task)
        if user is not None:
            _check(policy.can_resume(user, fresh), _("You may not resume this task."))
        if fresh.status != TaskStatus.PAUSED:
            raise ValidationError({"status": _("Only a paused task can be resumed.")},
                                  code="not_paused")
        _transition(fresh, TaskStatus.PENDING)
        if fresh.schedule_type != ScheduleType.EVENT:
            upcoming = fresh.schedule.first_run(now, anchor=fresh.run_at or fresh.created_at)
            if fresh.schedule_type == ScheduleType.ONE_TIME and fresh.run_at and fresh.run_at <= now:
                upcoming = now  # a one-time run missed while paused runs now
            fresh.next_run = fresh.occurrence_at = upcoming
        fresh.updated_by = user
        fresh.save(update_fields=["status", "next_run", "occurrence_at", "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.RESUMED, user=user, at=now)
    return _sync(task, fresh)


def run_now(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None) -> ScheduledTask:
    """Make the task due now; the next scheduler pass runs it."""
    now = _now(now)
    with transaction.atomic():
        fresh = _locked(task)
        if user is not None:
            _check(policy.can_run(user, fresh), _("You may not run this task."))
        if fresh.status == TaskStatus.RUNNING:
            raise ValidationError({"status": _("The task is already running.")}, code="running")
        if fresh.status == TaskStatus.CANCELLED:
            raise ValidationError({"status": _("A cancelled task cannot run.")}, code="cancelled")
        _transition(fresh, TaskStatus.PENDING)
        fresh.next_run = fresh.occurrence_at = now
        fresh.retry_count = 0
        fresh.enabled = True
        fresh.updated_by = user
        fresh.save(update_fields=["status", "next_run", "occurrence_at", "retry_count", "enabled",
                                  "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.RUN_REQUESTED, user=user, at=now)
    return _sync(task, fresh)


def delete(task: ScheduledTask, *, user: Any) -> None:
    """Delete the task and its logs; its audit history stays (by task id)."""
    with transaction.atomic():
        fresh = _locked(task)
        if fresh.is_system:
            raise _deny(_("System tasks cannot be deleted."))
        if user is not None:
            _check(policy.can_delete(user, fresh), _("You may not delete this task."))
        pk = fresh.pk
        _clear_object_permissions(fresh)
        fresh.delete()
        fresh.pk = pk
        audit.record(fresh, AuditAction.DELETED, user=user)


def _clear_object_permissions(task: ScheduledTask) -> None:
    # Guardian's generic rows do not cascade; a later task reusing the id must not inherit them.
    from django.contrib.contenttypes.models import ContentType
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    ctype = ContentType.objects.get_for_model(ScheduledTask)
    for model in (get_user_obj_perms_model(task), get_group_obj_perms_model(task)):
        model.objects.filter(content_type=ctype, object_pk=str(task.pk)).delete()


# --- sharing ---------------------------------------------------------------

def _share_codenames(levels: Iterable[str]) -> list[str]:
    levels = [levels] if isinstance(levels, str) else list(levels)
    unknown = sorted(set(levels) - set(policy.SHARE_LEVELS))
    if unknown or not levels:
        raise ValidationError(
            {"permissions": _("Choose from: %(levels)s.") % {"levels": ", ".join(policy.SHARE_LEVELS)}},
            code="invalid_choice")
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


def share(task: ScheduledTask, *, user: Any, users: Iterable[Any] = (), groups: Iterable[Any] = (),
          permissions: Iterable[str] | str = ("view",)) -> ScheduledTask:
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
        fresh = _locked(task)
        if user is not None:
            _check(policy.can_share(user, fresh), _("You may not share this task."))
        for codename in codenames:
            for recipient in [*users, *groups]:
                assign_perm(codename, recipient, fresh)
        audit.record(fresh, AuditAction.SHARED, user=user, changes=_share_note(users, groups, permissions))
    for recipient in users:
        policy.forget(recipient)
    return _sync(task, fresh)


def unshare(task: ScheduledTask, *, user: Any, users: Iterable[Any] = (), groups: Iterable[Any] = (),
            permissions: Iterable[str] | str | None = None) -> ScheduledTask:
    """Withdraw shared object permissions (all levels unless ``permissions`` is given).

    The owner's own rights come from ownership and are not withdrawn.
    """
    from guardian.shortcuts import remove_perm

    codenames = _share_codenames(permissions) if permissions is not None else list(policy.OBJECT_PERMS)
    users, groups = _recipients(users, groups)
    with transaction.atomic():
        fresh = _locked(task)
        if user is not None:
            _check(policy.can_share(user, fresh), _("You may not change the sharing of this task."))
        for codename in codenames:
            for recipient in [*users, *groups]:
                if getattr(recipient, "pk", None) == fresh.owner_id and recipient in users:
                    continue
                remove_perm(codename, recipient, fresh)
        audit.record(fresh, AuditAction.UNSHARED, user=user,
                     changes=_share_note(users, groups, permissions or list(policy.SHARE_LEVELS)))
    for recipient in users:
        policy.forget(recipient)
    return _sync(task, fresh)


def _share_note(users: list[Any], groups: list[Any], levels: Iterable[str] | str) -> dict[str, Any]:
    return {"users": sorted(u.get_username() for u in users),
            "groups": sorted(g.name for g in groups),
            "permissions": [levels] if isinstance(levels, str) else sorted(levels)}


def shared_with(task: ScheduledTask) -> dict[str, dict[Any, list[str]]]:
    """Who the task is shared with: ``{"users": {user: [level, ...]}, "groups": {...}}``.

    The owner is left out. Two queries.
    """
    from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

    level_of = {codename: level for level, codename in policy.SHARE_LEVELS.items()}
    found: dict[str, dict[Any, list[str]]] = {"users": {}, "groups": {}}
    users = get_users_with_perms(task, attach_perms=True, with_superusers=False,
                                 with_group_users=False)
    for who, codenames in users.items():
        if who.pk != task.owner_id:
            found["users"][who] = sorted(level_of[c] for c in codenames if c in level_of)
    for who, codenames in get_groups_with_perms(task, attach_perms=True).items():
        found["groups"][who] = sorted(level_of[c] for c in codenames if c in level_of)
    return found


# --- reading ---------------------------------------------------------------

def get_task(pk: Any, *, user: Any) -> ScheduledTask:
    """The task ``pk`` if ``user`` may see it.

    Raises ScheduledTask.DoesNotExist otherwise, as for a missing task, so a
    view answers 404 and does not tell which tasks exist.
    """
    queryset = ScheduledTask.objects.all()
    if user is not None:
        queryset = policy.viewable_queryset(user, queryset)
    try:
        return queryset.get(pk=pk)
    except (ValueError, TypeError):
        raise ScheduledTask.DoesNotExist(f"No task {pk!r}.") from None


def visible_config(task: ScheduledTask) -> dict[str, Any]:
    """The task's config fit to show (lists, exports, logs): secret fields masked."""
    return configs.masked_config(task)


def task_logs(task: ScheduledTask, *, user: Any) -> Any:
    """The task's execution logs, newest first, if ``user`` may see them."""
    if user is not None and not policy.can_view_logs(user, task):
        raise _deny(_("You may not see the runs of this task."))
    return task.logs.newest_first()


def task_history(task: ScheduledTask, *, user: Any, limit: int = 100) -> list[audit.TimelineEntry]:
    """The task's history (audit events and runs, newest first), if ``user`` may see it."""
    if user is not None and not policy.can_view_history(user, task):
        raise _deny(_("You may not see the history of this task."))
    return audit.timeline(task, limit=limit)


def next_runs(schedule_type: str | None = None, *, task: ScheduledTask | None = None,
              cron: str | None = None, run_at: dt.datetime | None = None, interval: Any = None,
              event: str | None = None, timezone: str | None = None, count: int = 5,
              after: dt.datetime | None = None) -> list[dt.datetime]:
    """The next ``count`` run times, in the schedule's zone (a task's, or the arguments')."""
    after = _now(after)
    if task is not None:
        return task.schedule.runs_after(after, count, anchor=task.run_at or task.created_at)
    sched = build_schedule(schedule_type or "", cron=cron, run_at=run_at, interval=interval,
                           event=event, timezone_name=timezone, now=after)
    return sched.runs_after(after, count, anchor=after)


def emit(event_name: str, payload: dict[str, Any] | None = None) -> None:
    """Fire the EVENT tasks listening to ``event_name`` (after the current transaction commits)."""
    def fire() -> None:
        now = timezone.now()
        ScheduledTask.objects.listening_to(event_name).filter(status=TaskStatus.PENDING).update(
            next_run=now, occurrence_at=now, event_payload=payload or {})

    transaction.on_commit(fire)

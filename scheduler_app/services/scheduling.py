"""Create, change and delete scheduled tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from scheduler_app import conf, configs, policy, schedules
from scheduler_app.models import (
    AuditAction,
    MisfirePolicy,
    ScheduledTask,
    TaskStatus,
)
from scheduler_app.providers import SchedulableTask
from scheduler_app.services import audit, chains, sharing
from scheduler_app.services import calendars as blackout_calendars
from scheduler_app.services.arguments import check_arguments, check_json
from scheduler_app.services.steps import (
    bounded_errors,
    denied,
    locked,
    require,
    resolve_now,
    send_after_commit,
    sync_instance,
    transition,
    user_pk,
    username_of,
)
from scheduler_app.signals import task_scheduled
from scheduler_app.validation import (
    build_schedule,
    check_choice,
    check_range,
    clean_tags,
    resolve_task_type,
)

# Fields a caller may change with update(); module, type, owner and is_system are fixed.
EDITABLE_FIELDS = {
    "name",
    "config",
    "schedule_type",
    "cron",
    "run_at",
    "interval",
    "event",
    "timezone",
    "priority",
    "max_retries",
    "timeout",
    "allow_overlap",
    "tags",
    "enabled",
    "misfire_policy",
    "misfire_grace",
    "calendars",
    "on_success",
}


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


@bounded_errors
def schedule(
    *,
    user: Any,
    module: str,
    task_type: str,
    config: dict[str, Any] | None = None,
    schedule_type: str,
    cron: str | None = None,
    run_at: dt.datetime | None = None,
    interval: Any = None,
    event: str | None = None,
    condition: str | None = None,
    timezone: str | None = None,
    name: str | None = None,
    priority: int = 5,
    max_retries: int | None = None,
    timeout: int | None = None,
    allow_overlap: bool = False,
    tags: Iterable[str] = (),
    misfire_policy: str = MisfirePolicy.RUN_ONCE,
    misfire_grace: int | None = None,
    owner: Any = None,
    is_system: bool = False,
    now: dt.datetime | None = None,
    calendars: Iterable[Any] = (),
    on_success: Iterable[Any] = (),
) -> ScheduledTask:
    """Create a scheduled task after validating everything; nothing is saved on error.

    ``condition`` is accepted for conditional schedules as a note of which
    condition is meant; the task type's ``condition(context)`` decides.
    ``on_success`` names tasks (or ids) to run after each success; the user
    must be allowed to run them (see :func:`scheduler_app.services.chains.resolve`).
    Every argument is type- and size-checked first (:mod:`.arguments`).
    """
    # Every argument but the acting user and the clock, before anything reads one.
    check_arguments({k: v for k, v in locals().items() if k not in ("user", "now")})
    now = resolve_now(now)
    task_cls = resolve_task_type(module, task_type)
    if user is not None:
        _check_may_schedule(user, module, task_type, owner=owner, is_system=is_system)
    settings = conf.get()
    sched = build_schedule(
        schedule_type,
        cron=cron,
        run_at=run_at,
        interval=interval,
        event=event,
        timezone_name=timezone,
        now=now,
    )
    _refuse_masked_secrets(task_cls, config)
    cleaned = configs.clean_config(task_cls, config)
    if user is not None and not policy.has_required_permissions(user, task_cls, cleaned):
        raise denied(
            _("You may not schedule “%(key)s” with this configuration.")
            % {"key": f"{module}.{task_type}"}
        )
    stored_config = _storable_config(cleaned)
    task = ScheduledTask(
        module_id=module,
        task_type=task_type,
        name=(name or "").strip() or str(task_cls.name or task_type),
        config=stored_config,
        owner=owner if owner is not None else (user if user is not None else None),
        priority=check_range("priority", priority, 1, 10),
        max_retries=check_range(
            "max_retries",
            max_retries
            if max_retries is not None
            else (
                task_cls.default_max_retries
                if task_cls.default_max_retries is not None
                else settings.DEFAULT_MAX_RETRIES
            ),
            0,
            100,
        ),
        timeout=check_range(
            "timeout",
            timeout
            if timeout is not None
            else (task_cls.default_timeout or settings.DEFAULT_TIMEOUT),
            1,
            7 * 24 * 3600,
        ),
        allow_overlap=allow_overlap,
        tags=clean_tags(tags),
        misfire_policy=check_choice("misfire_policy", misfire_policy, MisfirePolicy.values),
        misfire_grace=None
        if misfire_grace is None
        else check_range("misfire_grace", misfire_grace, 0, 365 * 24 * 3600),
        is_system=is_system,
        created_by=user,
        updated_by=user,
    )
    _apply_schedule(task, sched, now)
    blackouts = blackout_calendars.resolve(calendars or ())
    chained = chains.resolve(user, on_success or ())
    with transaction.atomic():
        task.save()
        if blackouts:
            task.calendars.set(blackouts)
        if chained:
            chains.set_chain(task, chained)
        sharing.grant_owner(task)
        audit.record(
            task,
            AuditAction.CREATED,
            user=user,
            at=now,
            changes={"owner": username_of(task.owner)} if task.owner_id != user_pk(user) else None,
        )
    send_after_commit(task_scheduled, "task.scheduled", task)
    return task


def _check_may_schedule(
    user: Any, module: str, task_type: str, *, owner: Any, is_system: bool
) -> None:
    if not policy.can_schedule(user, module, task_type):
        raise denied(_("You may not schedule “%(key)s” tasks.") % {"key": f"{module}.{task_type}"})
    if is_system and not policy.is_scheduler_admin(user):
        raise denied(_("Only scheduler administrators may create system tasks."))
    if (
        owner is not None
        and user_pk(owner) != user_pk(user)
        and not policy.is_module_admin(user, module)
    ):
        raise denied(_("Only module administrators may schedule a task for someone else."))


def _storable_config(cleaned: dict[str, Any]) -> Any:
    """The JSON to store for a cleaned config; a config form may return what JSON cannot hold."""
    stored = configs.to_json(cleaned)
    error = check_json(stored)
    if error is not None:
        raise ValidationError({"config": error})
    return stored


def _refuse_masked_secrets(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> None:
    # A new task has no stored secret to keep: the mask itself must not be saved as one.
    masked = [
        key
        for key in task_cls.secret_fields
        if isinstance(config, dict) and config.get(key) == configs.SECRET_MASK
    ]
    if masked:
        raise ValidationError({key: _("Enter the value.") for key in masked}, code="masked_secret")


@dataclass
class _Update:
    """An update checked in full and applied in memory, not yet saved."""

    before: dict[str, Any]
    calendars: list[Any] | None
    chained: list[ScheduledTask] | None


@bounded_errors
def update(
    task: ScheduledTask,
    *,
    user: Any,
    now: dt.datetime | None = None,
    **changes: Any,
) -> ScheduledTask:
    """Change editable fields; the schedule is re-validated and next_run recomputed.

    module_id, task_type, owner, is_system, status and the run fields are not
    editable: naming one is a ValidationError. A new config needs the task
    type's required permissions for the editor too. Everything is checked
    before anything is written: a refused update changes nothing. ``task``
    is refreshed in place from the saved row and returned.
    """
    now = resolve_now(now)
    with transaction.atomic():
        fresh = locked(task)
        prepared = _prepare_update(fresh, user=user, now=now, changes=changes)
        fresh.updated_by = user
        fresh.save()
        changed = audit.diff(
            prepared.before, audit.snapshot(fresh), secrets=audit.secret_keys(fresh)
        )
        if prepared.calendars is not None:
            changed.update(_set_calendars(fresh, prepared.calendars))
        if prepared.chained is not None:
            changed.update(_set_chain(fresh, prepared.chained))
        if changed:
            audit.record(fresh, AuditAction.EDITED, user=user, changes=changed, at=now)
    return sync_instance(task, fresh)


@bounded_errors
def validate_update(
    task: ScheduledTask,
    *,
    user: Any,
    now: dt.datetime | None = None,
    **changes: Any,
) -> None:
    """Raise what :func:`update` would raise for these changes; write nothing.

    For forms that must show a refusal on their fields before they save.
    """
    try:
        fresh = ScheduledTask.objects.get(pk=task.pk)
    except ScheduledTask.DoesNotExist:
        raise ValidationError(_("This task no longer exists."), code="gone") from None
    _prepare_update(fresh, user=user, now=resolve_now(now), changes=changes)


def _prepare_update(
    fresh: ScheduledTask, *, user: Any, now: dt.datetime, changes: dict[str, Any]
) -> _Update:
    if user is not None and not policy.can_edit(user, fresh):
        raise denied(_("You may not edit this task."))
    forbidden = set(changes) - EDITABLE_FIELDS
    if forbidden:
        raise ValidationError(
            {f: _("This field cannot be changed.") for f in sorted(forbidden)},
            code="not_editable",
        )
    check_arguments(changes)
    chained = (
        chains.resolve(user, changes["on_success"] or (), task=fresh)
        if "on_success" in changes
        else None
    )
    calendars = (
        blackout_calendars.resolve(changes["calendars"] or ()) if "calendars" in changes else None
    )
    before = audit.snapshot(fresh)
    _apply_changes(fresh, changes, user=user, now=now)
    return _Update(before=before, calendars=calendars, chained=chained)


def _set_chain(task: ScheduledTask, chained: list[ScheduledTask]) -> dict[str, list[Any]]:
    old, new = chains.chained_ids(task), sorted(t.pk for t in chained)
    if old == new:
        return {}
    chains.set_chain(task, chained)
    return {"on_success": [old, new]}


def _apply_changes(
    task: ScheduledTask, changes: dict[str, Any], *, user: Any, now: dt.datetime
) -> None:
    task_cls = resolve_task_type(task.module_id, task.task_type)
    if "config" in changes:
        merged = configs.merge_secrets(task_cls, task.config, changes["config"] or {})
        cleaned = configs.clean_config(task_cls, merged)
        if user is not None and not policy.has_required_permissions(user, task_cls, cleaned):
            raise denied(_("You may not use this configuration."))
        task.config = _storable_config(cleaned)
    schedule_keys = {"schedule_type", "cron", "run_at", "interval", "event", "timezone"}
    if schedule_keys & set(changes):
        current = task.schedule
        sched = build_schedule(
            changes.get("schedule_type", task.schedule_type),
            cron=changes.get("cron", current.cron),
            run_at=changes.get("run_at", current.run_at),
            interval=changes.get(
                "interval",
                (current.interval_every, current.interval_unit) if current.interval_every else None,
            ),
            event=changes.get("event", current.event),
            timezone_name=changes.get("timezone", current.timezone),
            now=now,
        )
        _apply_schedule(task, sched, now)
    if "name" in changes:
        task.name = (changes["name"] or "").strip() or task.name
    if "priority" in changes:
        task.priority = check_range("priority", changes["priority"], 1, 10)
    if "max_retries" in changes:
        task.max_retries = check_range("max_retries", changes["max_retries"], 0, 100)
    if "timeout" in changes:
        task.timeout = check_range("timeout", changes["timeout"], 1, 7 * 24 * 3600)
    if "allow_overlap" in changes:
        task.allow_overlap = changes["allow_overlap"]
    if "enabled" in changes:
        task.enabled = changes["enabled"]
    if "tags" in changes:
        task.tags = clean_tags(changes["tags"])
    if "misfire_policy" in changes:
        task.misfire_policy = check_choice(
            "misfire_policy", changes["misfire_policy"], MisfirePolicy.values
        )
    if "misfire_grace" in changes:
        grace = changes["misfire_grace"]
        task.misfire_grace = (
            None if grace in (None, "") else check_range("misfire_grace", grace, 0, 365 * 24 * 3600)
        )
    if (
        task.status in (TaskStatus.FAILED, TaskStatus.SUCCESS)
        and task.next_run
        and task.next_run > now
    ):
        # A finished task given a new future schedule is live again.
        transition(task, TaskStatus.PENDING)


def _set_calendars(task: ScheduledTask, wanted: list[Any]) -> dict[str, list[Any]]:
    """Attach exactly these blackout calendars; the audit change, if any."""
    old = sorted(task.calendars.values_list("name", flat=True))
    task.calendars.set(wanted)
    new = [c.name for c in wanted]
    return {"calendars": [old, new]} if old != new else {}


def delete(task: ScheduledTask, *, user: Any) -> None:
    """Delete the task and its logs; its audit history stays (by task id)."""
    with transaction.atomic():
        fresh = locked(task)
        if fresh.is_system:
            raise denied(_("System tasks cannot be deleted."))
        if user is not None:
            require(policy.can_delete(user, fresh), _("You may not delete this task."))
        pk = fresh.pk
        sharing.clear_object_permissions(fresh)
        fresh.delete()
        fresh.pk = pk
        audit.record(fresh, AuditAction.DELETED, user=user)

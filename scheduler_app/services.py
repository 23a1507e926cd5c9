"""Use cases. Outside the engine, the only writer of task state.

Every function takes the acting ``user`` and asks :mod:`scheduler_app.policy`;
``user=None`` means the system itself (management commands run as system
unless given ``--as-user``). Errors are ``PermissionDenied`` or
``ValidationError`` with field-level messages.
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

from scheduler_app import conf, configs, policy, schedules
from scheduler_app.exceptions import InvalidTransition, NotRegistered
from scheduler_app.models import (
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
OWNER_OBJECT_PERMS = ("view_scheduledtask", "change_scheduledtask", "delete_scheduledtask",
                      "run_scheduledtask")
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
    if user is not None and not policy.can_schedule(user, module, task_type, config):
        raise _deny(_("You may not schedule “%(key)s” tasks.") % {"key": f"{module}.{task_type}"})
    settings = conf.get()
    sched = build_schedule(schedule_type, cron=cron, run_at=run_at, interval=interval, event=event,
                           timezone_name=timezone, now=now)
    stored_config = configs.store_config(task_cls, config)
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
    transaction.on_commit(lambda: send_lifecycle(task_scheduled, "task.scheduled", task=task))
    return task


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
    """Change editable fields; the schedule is re-validated and next_run recomputed."""
    now = _now(now)
    forbidden = set(changes) - EDITABLE_FIELDS
    if forbidden:
        raise ValidationError({f: _("This field cannot be changed.") for f in sorted(forbidden)},
                              code="not_editable")
    if user is not None and not policy.can_edit(user, task):
        raise _deny(_("You may not edit this task."))
    task_cls = resolve_task_type(task.module_id, task.task_type)
    if "config" in changes:
        merged = configs.merge_secrets(task_cls, task.config, changes["config"] or {})
        task.config = configs.store_config(task_cls, merged)
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
        task.name = str(changes["name"]).strip() or task.name
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
    task.updated_by = user
    task.save()
    return task


def _transition(task: ScheduledTask, target: str) -> None:
    try:
        check_transition(task.status, target)
    except InvalidTransition as exc:
        raise ValidationError({"status": str(exc)}, code="invalid_transition") from None
    task.status = target


def _locked(task: ScheduledTask) -> ScheduledTask:
    """Re-read the task under a row lock so concurrent changes serialise."""
    return ScheduledTask.objects.select_for_update().get(pk=task.pk)


def cancel(task: ScheduledTask, *, user: Any) -> ScheduledTask:
    """Stop the task for good (it stays in the list with its history)."""
    if user is not None and not policy.can_cancel(user, task):
        raise _deny(_("You may not cancel this task."))
    with transaction.atomic():
        fresh = _locked(task)
        _transition(fresh, TaskStatus.CANCELLED)
        fresh.next_run = None
        fresh.updated_by = user
        fresh.save(update_fields=["status", "next_run", "updated_by", "updated_at"])
    transaction.on_commit(lambda: send_lifecycle(task_cancelled, "task.cancelled", task=fresh))
    return fresh


def pause(task: ScheduledTask, *, user: Any) -> ScheduledTask:
    if user is not None and not policy.can_pause(user, task):
        raise _deny(_("You may not pause this task."))
    with transaction.atomic():
        fresh = _locked(task)
        if fresh.status == TaskStatus.RUNNING:
            raise ValidationError({"status": _("The task is running; pause it when the run ends.")},
                                  code="running")
        _transition(fresh, TaskStatus.PAUSED)
        fresh.updated_by = user
        fresh.save(update_fields=["status", "updated_by", "updated_at"])
    return fresh


def resume(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None) -> ScheduledTask:
    """Back to pending; the next run is the next slot from now (missed ones are not replayed)."""
    now = _now(now)
    if user is not None and not policy.can_pause(user, task):
        raise _deny(_("You may not resume this task."))
    with transaction.atomic():
        fresh = _locked(task)
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
    return fresh


def run_now(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None) -> ScheduledTask:
    """Make the task due now; the next scheduler pass runs it."""
    now = _now(now)
    if user is not None and not policy.can_run(user, task):
        raise _deny(_("You may not run this task."))
    with transaction.atomic():
        fresh = _locked(task)
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
    return fresh


def delete(task: ScheduledTask, *, user: Any) -> None:
    if task.is_system:
        raise _deny(_("System tasks cannot be deleted."))
    if user is not None and not policy.can_delete(user, task):
        raise _deny(_("You may not delete this task."))
    task.delete()


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

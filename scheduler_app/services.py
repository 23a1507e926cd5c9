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
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import audit, chains, conf, configs, policy, schedules, sharing
from scheduler_app import calendars as blackout_calendars
from scheduler_app.exceptions import InvalidTransition
from scheduler_app.models import (
    AuditAction,
    MisfirePolicy,
    ScheduledTask,
    ScheduleType,
    TaskStatus,
    check_transition,
)
from scheduler_app.providers import SchedulableTask
from scheduler_app.sharing import share, shared_with, unshare
from scheduler_app.signals import send_lifecycle, task_cancelled, task_scheduled
from scheduler_app.validation import (
    build_schedule,
    check_choice,
    check_range,
    clean_tags,
    resolve_task_type,
)

__all__ = [
    "EDITABLE_FIELDS", "build_schedule", "cancel", "delete", "emit", "get_task", "next_runs",
    "next_runs_with_notes",
    "pause", "resolve_task_type", "resume", "run_now", "schedule", "share", "shared_with",
    "task_history", "task_logs", "unshare", "update", "visible_config",
]

# Fields a caller may change with update(); module, type, owner and is_system are fixed.
EDITABLE_FIELDS = {
    "name", "config", "schedule_type", "cron", "run_at", "interval", "event", "timezone",
    "priority", "max_retries", "timeout", "allow_overlap", "tags", "enabled",
    "misfire_policy", "misfire_grace", "calendars", "on_success",
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


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
             calendars: Iterable[Any] = (), on_success: Iterable[Any] = (),
             ) -> ScheduledTask:
    """Create a scheduled task after validating everything; nothing is saved on error.

    ``condition`` is accepted for conditional schedules as a note of which
    condition is meant; the task type's ``condition(context)`` decides.
    ``on_success`` names tasks (or ids) to run after each success; the user
    must be allowed to run them (see :func:`scheduler_app.chains.resolve`).
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
        priority=check_range("priority", priority, 1, 10),
        max_retries=check_range(
            "max_retries",
            max_retries if max_retries is not None else (
                task_cls.default_max_retries if task_cls.default_max_retries is not None
                else settings.DEFAULT_MAX_RETRIES), 0, 100),
        timeout=check_range(
            "timeout",
            timeout if timeout is not None else (task_cls.default_timeout or settings.DEFAULT_TIMEOUT),
            1, 7 * 24 * 3600),
        allow_overlap=bool(allow_overlap),
        tags=clean_tags(tags),
        misfire_policy=check_choice("misfire_policy", misfire_policy, MisfirePolicy.values),
        misfire_grace=None if misfire_grace is None else check_range(
            "misfire_grace", misfire_grace, 0, 365 * 24 * 3600),
        is_system=is_system,
        created_by=user, updated_by=user,
    )
    if len(task.name) > 200:
        raise ValidationError({"name": _("Keep the name under 200 characters.")}, code="max_length")
    _apply_schedule(task, sched, now)
    blackouts = blackout_calendars.resolve(calendars)
    chained = chains.resolve(user, on_success or ())
    with transaction.atomic():
        task.save()
        if blackouts:
            task.calendars.set(blackouts)
        if chained:
            task.on_success.set(chained)
        sharing.grant_owner(task)
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
    """Send a lifecycle signal after commit (``send_lifecycle`` adds the masked config)."""
    transaction.on_commit(lambda: send_lifecycle(signal, event, task=task))


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
        chained = (chains.resolve(user, changes.pop("on_success") or (), task=fresh)
                   if "on_success" in changes else None)
        before = audit.snapshot(fresh)
        _apply_changes(fresh, changes, user=user, now=now)
        fresh.updated_by = user
        fresh.save()
        changed = audit.diff(before, audit.snapshot(fresh), secrets=audit.secret_keys(fresh))
        if "calendars" in changes:
            changed.update(_set_calendars(fresh, changes["calendars"]))
        if chained is not None:
            changed.update(_set_chain(fresh, chained))
        if changed:
            audit.record(fresh, AuditAction.EDITED, user=user, changes=changed, at=now)
    return _sync(task, fresh)


def _set_chain(task: ScheduledTask, chained: list[ScheduledTask]) -> dict[str, list[Any]]:
    old, new = chains.chained_ids(task), sorted(t.pk for t in chained)
    if old == new:
        return {}
    task.on_success.set(chained)
    return {"on_success": [old, new]}


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
        task.priority = check_range("priority", changes["priority"], 1, 10)
    if "max_retries" in changes:
        task.max_retries = check_range("max_retries", changes["max_retries"], 0, 100)
    if "timeout" in changes:
        task.timeout = check_range("timeout", changes["timeout"], 1, 7 * 24 * 3600)
    if "allow_overlap" in changes:
        task.allow_overlap = bool(changes["allow_overlap"])
    if "enabled" in changes:
        task.enabled = bool(changes["enabled"])
    if "tags" in changes:
        task.tags = clean_tags(changes["tags"])
    if "misfire_policy" in changes:
        task.misfire_policy = check_choice("misfire_policy", changes["misfire_policy"],
                                            MisfirePolicy.values)
    if "misfire_grace" in changes:
        grace = changes["misfire_grace"]
        task.misfire_grace = None if grace in (None, "") else check_range(
            "misfire_grace", grace, 0, 365 * 24 * 3600)
    if task.status in (TaskStatus.FAILED, TaskStatus.SUCCESS) and task.next_run and task.next_run > now:
        # A finished task given a new future schedule is live again.
        _transition(task, TaskStatus.PENDING)


def _set_calendars(task: ScheduledTask, values: Any) -> dict[str, list[Any]]:
    """Attach exactly these blackout calendars; the audit change, if any."""
    wanted = blackout_calendars.resolve(values)
    old = sorted(task.calendars.values_list("name", flat=True))
    task.calendars.set(wanted)
    new = [c.name for c in wanted]
    return {"calendars": [old, new]} if old != new else {}


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
        fresh.run_requested = True
        fresh.updated_by = user
        fresh.save(update_fields=["status", "next_run", "occurrence_at", "retry_count", "enabled",
                                  "run_requested", "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.RUN_REQUESTED, user=user, at=now)
    return _sync(task, fresh)


def interrupt(log: Any, *, user: Any, now: dt.datetime | None = None) -> Any:
    """Ask the scheduler running ``log`` (an open TaskExecutionLog) to stop it.

    The worker gets SIGTERM, then SIGKILL after SCHEDULER["INTERRUPT_GRACE"]
    seconds; the log ends ``cancelled`` naming who stopped it. The task's
    schedule goes on. Needs the right to run the task.
    """
    from scheduler_app.models import RunStatus, TaskExecutionLog

    now = _now(now)
    with transaction.atomic():
        fresh = TaskExecutionLog.objects.select_for_update().select_related("task").get(pk=log.pk)
        if user is not None:
            _check(policy.can_run(user, fresh.task), _("You may not stop runs of this task."))
        if fresh.status not in (RunStatus.RUNNING, RunStatus.ENQUEUED):
            raise ValidationError({"status": _("This run is not running any more.")}, code="not_running")
        fresh.interrupt_requested_at = now
        fresh.interrupt_requested_by = _username(user) or "system"
        fresh.save(update_fields=["interrupt_requested_at", "interrupt_requested_by"])
        audit.record(fresh.task, AuditAction.INTERRUPTED, user=user, at=now,
                     changes={"run": fresh.run_id})
    return fresh


def delete(task: ScheduledTask, *, user: Any) -> None:
    """Delete the task and its logs; its audit history stays (by task id)."""
    with transaction.atomic():
        fresh = _locked(task)
        if fresh.is_system:
            raise _deny(_("System tasks cannot be deleted."))
        if user is not None:
            _check(policy.can_delete(user, fresh), _("You may not delete this task."))
        pk = fresh.pk
        sharing.clear_object_permissions(fresh)
        fresh.delete()
        fresh.pk = pk
        audit.record(fresh, AuditAction.DELETED, user=user)


def get_task(pk: Any, *, user: Any) -> ScheduledTask:
    """The task ``pk`` if ``user`` may see it.

    Raises ScheduledTask.DoesNotExist otherwise, as for a missing task, so a
    view answers 404 and does not tell which tasks exist.
    """
    queryset: QuerySet[ScheduledTask] = ScheduledTask.objects.all()
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


def next_runs_with_notes(schedule_type: str | None = None, *, task: ScheduledTask | None = None,
                         cron: str | None = None, run_at: dt.datetime | None = None,
                         interval: Any = None, event: str | None = None,
                         timezone: str | None = None, count: int = 5,
                         after: dt.datetime | None = None) -> list[schedules.PlannedRun]:
    """As :func:`next_runs`, each run with what the DST rule does to it (``.dst``, ``.note``)."""
    after = _now(after)
    if task is not None:
        return schedules.planned_runs(task.schedule, after, count,
                                      anchor=task.run_at or task.created_at)
    sched = build_schedule(schedule_type or "", cron=cron, run_at=run_at, interval=interval,
                           event=event, timezone_name=timezone, now=after)
    return schedules.planned_runs(sched, after, count, anchor=after)


def emit(event_name: str, payload: dict[str, Any] | None = None) -> None:
    """Fire the EVENT tasks listening to ``event_name``, once each, after the current
    transaction commits (nothing fires if it rolls back).

    Each listening task (pending or running; not paused, cancelled or failed)
    gets one queued occurrence with ``payload`` in its context; events that
    arrive while a task runs are run after it, in order.
    """
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from scheduler_app.models import PendingEvent

    name = (event_name or "").strip()
    if not name:
        raise ValidationError({"event": _("Name the event to emit.")}, code="required")
    try:
        data = json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"payload": _("The event payload must be JSON: %(error)s") % {"error": exc}},
                              code="invalid") from None

    def fire() -> None:
        now = timezone.now()
        listeners = list(ScheduledTask.objects.listening_to(name).filter(
            status__in=(TaskStatus.PENDING, TaskStatus.RUNNING)).values_list("pk", flat=True))
        if not listeners:
            return
        PendingEvent.objects.bulk_create(
            [PendingEvent(task_id=pk, event_name=name, payload=data, fired_at=now) for pk in listeners])
        ScheduledTask.objects.filter(pk__in=listeners, status=TaskStatus.PENDING).filter(
            Q(next_run__isnull=True) | Q(next_run__gt=now)).update(next_run=now, occurrence_at=now)

    transaction.on_commit(fire)

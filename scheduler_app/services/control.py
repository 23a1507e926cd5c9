"""Control a task's runs: cancel, pause, resume, run now, stop a run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import (
    AuditAction,
    ScheduledTask,
    ScheduleType,
    TaskStatus,
)
from scheduler_app.services import audit
from scheduler_app.services.steps import (
    locked,
    refuse_no_op,
    require,
    resolve_now,
    send_after_commit,
    sync_instance,
    transition,
    username_of,
)
from scheduler_app.signals import task_cancelled


def cancel(task: ScheduledTask, *, user: Any) -> ScheduledTask:
    """Stop the task for good (it stays in the list with its history)."""
    with transaction.atomic():
        fresh = locked(task)
        if user is not None:
            require(policy.can_cancel(user, fresh), _("You may not cancel this task."))
        refuse_no_op(fresh.status == TaskStatus.CANCELLED, _("The task is already cancelled."))
        transition(fresh, TaskStatus.CANCELLED)
        fresh.next_run = None
        fresh.updated_by = user
        fresh.save(update_fields=["status", "next_run", "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.CANCELLED, user=user)
    send_after_commit(task_cancelled, "task.cancelled", fresh)
    return sync_instance(task, fresh)


def pause(task: ScheduledTask, *, user: Any) -> ScheduledTask:
    """Stop running the task until it is resumed."""
    with transaction.atomic():
        fresh = locked(task)
        if user is not None:
            require(policy.can_pause(user, fresh), _("You may not pause this task."))
        if fresh.status == TaskStatus.RUNNING:
            raise ValidationError(
                {"status": _("The task is running; pause it when the run ends.")}, code="running"
            )
        refuse_no_op(fresh.status == TaskStatus.PAUSED, _("The task is already paused."))
        transition(fresh, TaskStatus.PAUSED)
        fresh.updated_by = user
        fresh.save(update_fields=["status", "updated_by", "updated_at"])
        audit.record(fresh, AuditAction.PAUSED, user=user)
    return sync_instance(task, fresh)


def resume(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None) -> ScheduledTask:
    """Back to pending; the next run is the next slot from now (missed ones are not replayed)."""
    now = resolve_now(now)
    with transaction.atomic():
        fresh = locked(task)
        if user is not None:
            require(policy.can_resume(user, fresh), _("You may not resume this task."))
        if fresh.status != TaskStatus.PAUSED:
            raise ValidationError(
                {"status": _("Only a paused task can be resumed.")}, code="not_paused"
            )
        transition(fresh, TaskStatus.PENDING)
        if fresh.schedule.is_timed:
            upcoming = fresh.schedule.first_run(now, anchor=fresh.run_at or fresh.created_at)
            if (
                fresh.schedule_type == ScheduleType.ONE_TIME
                and fresh.run_at
                and fresh.run_at <= now
            ):
                upcoming = now  # a one-time run missed while paused runs now
            fresh.next_run = fresh.occurrence_at = upcoming
        fresh.updated_by = user
        fresh.save(
            update_fields=["status", "next_run", "occurrence_at", "updated_by", "updated_at"]
        )
        audit.record(fresh, AuditAction.RESUMED, user=user, at=now)
    return sync_instance(task, fresh)


def run_now(task: ScheduledTask, *, user: Any, now: dt.datetime | None = None) -> ScheduledTask:
    """Make the task due now; the next scheduler pass runs it."""
    now = resolve_now(now)
    with transaction.atomic():
        fresh = locked(task)
        if user is not None:
            require(policy.can_run(user, fresh), _("You may not run this task."))
        if fresh.status == TaskStatus.RUNNING:
            raise ValidationError({"status": _("The task is already running.")}, code="running")
        if fresh.status == TaskStatus.CANCELLED:
            raise ValidationError({"status": _("A cancelled task cannot run.")}, code="cancelled")
        refuse_no_op(
            fresh.run_requested
            and fresh.status == TaskStatus.PENDING
            and fresh.enabled
            and fresh.next_run is not None
            and fresh.next_run <= now,
            _("The task is already queued to run on the next scheduler pass."),
        )
        transition(fresh, TaskStatus.PENDING)
        fresh.next_run = fresh.occurrence_at = now
        fresh.retry_count = 0
        fresh.enabled = True
        fresh.run_requested = True
        fresh.updated_by = user
        fresh.save(
            update_fields=[
                "status",
                "next_run",
                "occurrence_at",
                "retry_count",
                "enabled",
                "run_requested",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(fresh, AuditAction.RUN_REQUESTED, user=user, at=now)
    return sync_instance(task, fresh)


def interrupt(log: Any, *, user: Any, now: dt.datetime | None = None) -> Any:
    """Ask the scheduler running ``log`` (an open TaskExecutionLog) to stop it.

    The worker gets SIGTERM, then SIGKILL after SCHEDULER["INTERRUPT_GRACE"]
    seconds; the log ends ``cancelled`` naming who stopped it. The task's
    schedule goes on. Needs the right to run the task.
    """
    from scheduler_app.models import RunStatus, TaskExecutionLog

    now = resolve_now(now)
    with transaction.atomic():
        fresh = TaskExecutionLog.objects.select_for_update().select_related("task").get(pk=log.pk)
        if user is not None:
            require(policy.can_run(user, fresh.task), _("You may not stop runs of this task."))
        if fresh.status not in (RunStatus.RUNNING, RunStatus.ENQUEUED):
            raise ValidationError(
                {"status": _("This run is not running any more.")}, code="not_running"
            )
        refuse_no_op(
            fresh.interrupt_requested_at is not None,
            _("Stopping this run was already requested by %(who)s.")
            % {"who": fresh.interrupt_requested_by or "system"},
        )
        fresh.interrupt_requested_at = now
        fresh.interrupt_requested_by = username_of(user) or "system"
        fresh.save(update_fields=["interrupt_requested_at", "interrupt_requested_by"])
        audit.record(
            fresh.task, AuditAction.INTERRUPTED, user=user, at=now, changes={"run": fresh.run_id}
        )
    return fresh

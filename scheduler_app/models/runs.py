"""What happened: execution logs, scheduler heartbeats, alert state and the alerts' outbox."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.choices import RunStatus
from scheduler_app.models.tasks import ScheduledTask


class SchedulerHeartbeat(models.Model):
    """One row per scheduler pass: who ran it, when, and what it did (the watchdog reads these)."""

    host = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("pid"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    claimed = models.PositiveIntegerField(_("claimed"), default=0)
    executed = models.PositiveIntegerField(_("executed"), default=0)
    recovered = models.PositiveIntegerField(_("recovered"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    lock_degraded = models.BooleanField(_("lock cache unreachable"), default=False)

    class Meta:
        verbose_name = _("scheduler heartbeat")
        verbose_name_plural = _("scheduler heartbeats")
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["-finished_at"], name="sched_heartbeat_recent_idx")]

    def __str__(self) -> str:
        return f"{self.host}:{self.pid} at {self.finished_at:%Y-%m-%d %H:%M:%S}"


class AlertState(models.Model):
    """When the alert of one key (kind and task) was last sent: the alerts' rate limit."""

    key = models.CharField(_("key"), max_length=80, unique=True)
    last_sent_at = models.DateTimeField(_("last sent"))
    # Alerts of this key held back since the last one; the next alert says how many.
    suppressed = models.PositiveIntegerField(_("held back"), default=0)

    class Meta:
        verbose_name = _("alert state")
        verbose_name_plural = _("alert states")

    def __str__(self) -> str:
        return f"{self.key} at {self.last_sent_at:%Y-%m-%d %H:%M:%S}"


class PendingAlertQuerySet(models.QuerySet):
    def unclaimed(self, now: dt.datetime) -> PendingAlertQuerySet:
        """Alerts no deliverer holds at ``now`` (or whose deliverer's hold ran out)."""
        return self.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))

    def due(self, now: dt.datetime) -> PendingAlertQuerySet:
        """Unclaimed alerts whose next attempt is due at ``now``."""
        return self.unclaimed(now).filter(next_attempt_at__lte=now)


class PendingAlert(models.Model):
    """An alert waiting to go out: the alerts' outbox.

    Written in the transaction that records the runs it is about, delivered
    off the scheduler pass, deleted once every channel took it (or the last
    attempt failed).
    """

    key = models.CharField(_("key"), max_length=80)  # the rate limit's key (AlertState)
    alert = models.JSONField(_("alert"))  # Alert.as_json()
    delivered = models.JSONField(_("delivered to"), default=list)  # channels done
    admitted = models.BooleanField(_("admitted by the rate limit"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claimed_by = models.CharField(_("claimed by"), max_length=40, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now)

    objects = PendingAlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("pending alert")
        verbose_name_plural = _("pending alerts")
        ordering = ["next_attempt_at", "pk"]
        indexes = [models.Index(fields=["next_attempt_at"], name="sched_alert_due_idx")]

    def __str__(self) -> str:
        return f"{self.key} (attempt {self.attempts + 1})"


class TaskExecutionLogQuerySet(models.QuerySet):
    def open(self) -> TaskExecutionLogQuerySet:
        return self.filter(status=RunStatus.RUNNING)

    def newest_first(self) -> TaskExecutionLogQuerySet:
        return self.order_by("-started_at", "-pk")


class TaskExecutionLog(models.Model):
    # No index of its own: the occurrence constraint and sched_log_task_recent_idx both lead
    # with task_id, and every index is written once per run on the scheduler's hot path.
    task = models.ForeignKey(
        ScheduledTask,
        on_delete=models.CASCADE,
        related_name="logs",
        verbose_name=_("task"),
        db_index=False,
    )
    # Looked up by equality only (sched_log_run_idx below): db_index=True would add a
    # second, varchar_pattern_ops index on PostgreSQL for LIKE queries nothing makes.
    run_id = models.CharField(_("run id"), max_length=40)
    scheduled_for = models.DateTimeField(_("scheduled for"))
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=dj_timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    output = models.TextField(_("captured output"), blank=True)
    host = models.CharField(_("host"), max_length=200, blank=True)
    pid = models.PositiveIntegerField(_("pid"), null=True, blank=True)
    triggered_by = models.CharField(_("triggered by"), max_length=150, blank=True)
    # The run of the workflow graph this execution belongs to (None: not part of one).
    workflow_run = models.ForeignKey(
        "WorkflowRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="logs",
        verbose_name=_("workflow run"),
    )
    # Set by services.interrupt(); the scheduler running this run stops its worker.
    interrupt_requested_at = models.DateTimeField(_("stop requested"), null=True, blank=True)
    interrupt_requested_by = models.CharField(_("stop requested by"), max_length=150, blank=True)
    # Reported by the body with context.progress() while it runs (throttled, see PROGRESS_INTERVAL).
    progress_done = models.PositiveBigIntegerField(_("progress done"), null=True, blank=True)
    progress_total = models.PositiveBigIntegerField(_("progress total"), null=True, blank=True)
    progress_message = models.CharField(_("progress message"), max_length=200, blank=True)
    progress_at = models.DateTimeField(_("progress reported"), null=True, blank=True)

    objects = TaskExecutionLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("execution log")
        verbose_name_plural = _("execution logs")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Exactly once, as a database guarantee: one row per occurrence and attempt.
            models.UniqueConstraint(
                fields=["task", "scheduled_for", "attempt"], name="sched_log_one_run_per_occurrence"
            ),
        ]
        indexes = [
            models.Index(fields=["task", "-started_at"], name="sched_log_task_recent_idx"),
            models.Index(fields=["started_at"], name="sched_log_started_idx"),
            models.Index(fields=["run_id"], name="sched_log_run_idx"),
            models.Index(
                fields=["status"], name="sched_log_open_idx", condition=Q(status="running")
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.task_id} @ {self.scheduled_for:%Y-%m-%d %H:%M} #{self.attempt}: {self.status}"
        )

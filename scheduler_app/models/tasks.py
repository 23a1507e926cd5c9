"""Scheduled tasks and the events waiting for them."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app import schedules
from scheduler_app.models.choices import (
    IntervalUnit,
    MisfirePolicy,
    RunStatus,
    ScheduleType,
    TaskStatus,
)

if TYPE_CHECKING:
    from scheduler_app.models.calendars import BlackoutCalendar


class ScheduledTaskQuerySet(models.QuerySet):
    def due(self, now: dt.datetime) -> ScheduledTaskQuerySet:
        """Enabled, pending tasks whose next run has come, highest priority first."""
        return self.filter(enabled=True, status=TaskStatus.PENDING, next_run__lte=now).order_by(
            "priority", "next_run", "pk"
        )

    def lease_expired(self, now: dt.datetime) -> ScheduledTaskQuerySet:
        """Tasks claimed by a scheduler that stopped renewing its lease."""
        return self.filter(status=TaskStatus.RUNNING, lease_expires_at__lt=now)

    def for_module(self, module_id: str) -> ScheduledTaskQuerySet:
        return self.filter(module_id=module_id)

    def with_tag(self, tag: str) -> ScheduledTaskQuerySet:
        from django.db import connections

        if connections[self.db].features.supports_json_field_contains:
            return self.filter(tags__contains=[tag])
        # Tags are slugs, so the quoted form cannot match inside another tag.
        return self.filter(tags__icontains=json.dumps(tag))

    def listening_to(self, event_name: str) -> ScheduledTaskQuerySet:
        return self.filter(schedule_type=ScheduleType.EVENT, event_name=event_name, enabled=True)


class ScheduledTask(models.Model):
    module_id = models.CharField(_("module"), max_length=64, db_index=True)
    task_type = models.CharField(_("task type"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scheduled_tasks",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    schedule_type = models.CharField(
        _("schedule type"), max_length=16, choices=ScheduleType.choices
    )
    cron_expression = models.CharField(_("cron expression"), max_length=200, blank=True)
    run_at = models.DateTimeField(_("run at / start"), null=True, blank=True)
    interval_every = models.PositiveIntegerField(_("every"), null=True, blank=True)
    interval_unit = models.CharField(
        _("interval unit"), max_length=8, choices=IntervalUnit.choices, blank=True
    )
    event_name = models.CharField(_("event"), max_length=120, blank=True, db_index=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")

    priority = models.PositiveSmallIntegerField(
        _("priority"), default=5, help_text=_("1 is the highest, 10 the lowest.")
    )
    max_retries = models.PositiveSmallIntegerField(_("max retries"), default=3)
    retry_count = models.PositiveSmallIntegerField(_("retry count"), default=0)
    timeout = models.PositiveIntegerField(_("timeout (seconds)"), default=300)
    allow_overlap = models.BooleanField(_("allow overlapping runs"), default=False)
    misfire_policy = models.CharField(
        _("misfire policy"),
        max_length=8,
        choices=MisfirePolicy.choices,
        default=MisfirePolicy.RUN_ONCE,
    )
    misfire_grace = models.PositiveIntegerField(
        _("misfire grace (seconds)"),
        null=True,
        blank=True,
        help_text=_("A run later than this is skipped. Empty: the site default."),
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # Payload of the last emitted event, handed to the next run of an EVENT task.
    event_payload = models.JSONField(_("event payload"), null=True, blank=True)
    is_system = models.BooleanField(_("system task"), default=False)

    next_run = models.DateTimeField(_("next run"), null=True, blank=True)
    # The slot the next run executes; equals next_run except during retries,
    # when next_run moves on (backoff) but the occurrence stays the same.
    occurrence_at = models.DateTimeField(_("occurrence"), null=True, blank=True)
    last_run = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.CharField(
        _("last run status"), max_length=16, choices=RunStatus.choices, blank=True
    )
    error_message = models.TextField(_("last error"), blank=True)
    run_count = models.PositiveIntegerField(_("runs"), default=0)
    # Set by run_now(): the next occurrence was asked for by a person, so it is
    # not held back by blackout calendars or pause windows; cleared by the run.
    run_requested = models.BooleanField(_("run requested"), default=False)
    # Conditional tasks: checks whose condition did not hold since the last run
    # (kept here, not as one log row per check).
    skipped_checks = models.PositiveIntegerField(_("checks skipped"), default=0)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    # The workflow run the task's next execution belongs to (set when a parent
    # step starts it, kept through retries and approval waits, cleared at the end).
    workflow_run = models.ForeignKey(
        "WorkflowRun",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("workflow run"),
    )
    calendars: models.ManyToManyField[BlackoutCalendar, Any] = models.ManyToManyField(
        "BlackoutCalendar",
        blank=True,
        related_name="tasks",
        verbose_name=_("blackout calendars"),
        help_text=_("Runs that fall inside a period of these calendars are skipped."),
    )
    failure_streak = models.PositiveIntegerField(_("consecutive failures"), default=0)

    lease_owner = models.CharField(_("held by"), max_length=200, blank=True)
    lease_token = models.CharField(_("lease token"), max_length=40, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScheduledTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("scheduled task")
        verbose_name_plural = _("scheduled tasks")
        ordering = ["priority", "next_run", "pk"]
        indexes = [
            # The due query: only pending, enabled rows, by time then priority.
            models.Index(
                fields=["next_run", "priority"],
                name="sched_task_due_idx",
                condition=Q(status="pending", enabled=True),
            ),
            models.Index(
                fields=["lease_expires_at"],
                name="sched_task_lease_idx",
                condition=Q(status="running"),
            ),
            models.Index(fields=["module_id", "task_type"], name="sched_task_type_idx"),
            models.Index(fields=["owner", "status"], name="sched_task_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=10), name="sched_task_priority_range"
            ),
        ]
        permissions = [
            ("run_scheduledtask", "Can run scheduled task"),
            ("SA_SCHEDULER", "Scheduler: may schedule tasks"),
            ("SA_SCHEDULER_VIEW", "Scheduler: may view all tasks"),
            ("SA_SCHEDULER_ADMIN", "Scheduler: administers all tasks of all modules"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        return f"{self.module_id}.{self.task_type}"

    @property
    def on_success(self) -> ScheduledTaskQuerySet:
        """The tasks this one starts when it succeeds (its ``success`` workflow edges)."""
        return ScheduledTask.objects.filter(
            incoming_edges__source=self, incoming_edges__condition="success"
        )

    @property
    def schedule(self) -> schedules.Schedule:
        return schedules.Schedule(
            type=self.schedule_type,
            cron=self.cron_expression,
            run_at=self.run_at,
            interval_every=self.interval_every,
            interval_unit=self.interval_unit,
            event=self.event_name,
            timezone=self.timezone,
        )

    @property
    def masked_config(self) -> dict:
        """The config fit to show (admin, lists, logs): secret fields masked."""
        from scheduler_app import configs

        return configs.masked_config(self)

    def describe_schedule(self) -> str:
        try:
            return self.schedule.describe()
        except Exception:  # noqa: BLE001 - a broken row still renders
            return self.cron_expression or self.schedule_type

    def next_run_after(self, after: dt.datetime) -> dt.datetime | None:
        return self.schedule.next_after(after, anchor=self.run_at or self.created_at)


class PendingEvent(models.Model):
    """An emitted event waiting for one EVENT task to run it (one row per task and emit)."""

    task = models.ForeignKey(ScheduledTask, on_delete=models.CASCADE, related_name="pending_events")
    event_name = models.CharField(_("event"), max_length=120)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    fired_at = models.DateTimeField(_("fired at"), default=dj_timezone.now)

    class Meta:
        verbose_name = _("pending event")
        verbose_name_plural = _("pending events")
        indexes = [models.Index(fields=["task", "fired_at"], name="sched_event_task_idx")]

    def __str__(self) -> str:
        return f"{self.event_name} for task {self.task_id}"

"""ScheduledTask and TaskExecutionLog, with querysets named after intent."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app import schedules
from scheduler_app.exceptions import InvalidTransition


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    PAUSED = "paused", _("Paused")


class ScheduleType(models.TextChoices):
    CRON = schedules.CRON, _("Cron")
    ONE_TIME = schedules.ONE_TIME, _("One time")
    RECURRING = schedules.RECURRING, _("Recurring interval")
    EVENT = schedules.EVENT, _("Event")
    CONDITIONAL = schedules.CONDITIONAL, _("Conditional")


class IntervalUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")
    WEEKS = "weeks", _("weeks")


class MisfirePolicy(models.TextChoices):
    RUN_ONCE = "run_once", _("Run once (coalesce missed runs)")
    SKIP = "skip", _("Skip to the next run")
    RUN_ALL = "run_all", _("Run every missed run (capped)")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")
    TIMEOUT = "timeout", _("Timed out")
    CANCELLED = "cancelled", _("Cancelled")
    ABANDONED = "abandoned", _("Abandoned")
    SKIPPED = "skipped", _("Skipped")
    ENQUEUED = "enqueued", _("Enqueued")


# The lifecycle: from -> allowed targets. Everything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.RUNNING, TaskStatus.PAUSED, TaskStatus.CANCELLED,
                                   TaskStatus.FAILED, TaskStatus.SUCCESS}),
    TaskStatus.RUNNING: frozenset({TaskStatus.PENDING, TaskStatus.SUCCESS, TaskStatus.FAILED,
                                   TaskStatus.CANCELLED, TaskStatus.PAUSED}),
    TaskStatus.PAUSED: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.FAILED: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.SUCCESS: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.PENDING}),
}


def check_transition(current: str, target: str) -> None:
    """Raise InvalidTransition unless the lifecycle allows ``current -> target``."""
    if current != target and target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"A {current} task cannot become {target}.")


class ScheduledTaskQuerySet(models.QuerySet):
    def due(self, now: dt.datetime) -> ScheduledTaskQuerySet:
        """Enabled, pending tasks whose next run has come, highest priority first."""
        return self.filter(
            enabled=True, status=TaskStatus.PENDING, next_run__lte=now
        ).order_by("priority", "next_run", "pk")

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
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="scheduled_tasks")
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices,
                              default=TaskStatus.PENDING)
    enabled = models.BooleanField(_("enabled"), default=True)

    schedule_type = models.CharField(_("schedule type"), max_length=16, choices=ScheduleType.choices)
    cron_expression = models.CharField(_("cron expression"), max_length=120, blank=True)
    run_at = models.DateTimeField(_("run at / start"), null=True, blank=True)
    interval_every = models.PositiveIntegerField(_("every"), null=True, blank=True)
    interval_unit = models.CharField(_("interval unit"), max_length=8, choices=IntervalUnit.choices,
                                     blank=True)
    event_name = models.CharField(_("event"), max_length=120, blank=True, db_index=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")

    priority = models.PositiveSmallIntegerField(_("priority"), default=5,
                                                help_text=_("1 is the highest, 10 the lowest."))
    max_retries = models.PositiveSmallIntegerField(_("max retries"), default=3)
    retry_count = models.PositiveSmallIntegerField(_("retry count"), default=0)
    timeout = models.PositiveIntegerField(_("timeout (seconds)"), default=300)
    allow_overlap = models.BooleanField(_("allow overlapping runs"), default=False)
    misfire_policy = models.CharField(_("misfire policy"), max_length=8, choices=MisfirePolicy.choices,
                                      default=MisfirePolicy.RUN_ONCE)
    misfire_grace = models.PositiveIntegerField(
        _("misfire grace (seconds)"), null=True, blank=True,
        help_text=_("A run later than this is skipped. Empty: the site default."))
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # Payload of the last emitted event, handed to the next run of an EVENT task.
    event_payload = models.JSONField(_("event payload"), null=True, blank=True)
    is_system = models.BooleanField(_("system task"), default=False)

    next_run = models.DateTimeField(_("next run"), null=True, blank=True)
    # The slot the next run executes; equals next_run except during retries,
    # when next_run moves on (backoff) but the occurrence stays the same.
    occurrence_at = models.DateTimeField(_("occurrence"), null=True, blank=True)
    last_run = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.CharField(_("last run status"), max_length=16, choices=RunStatus.choices,
                                   blank=True)
    error_message = models.TextField(_("last error"), blank=True)
    run_count = models.PositiveIntegerField(_("runs"), default=0)
    # Set by run_now(): the next occurrence was asked for by a person, so it is
    # not held back by blackout calendars or pause windows; cleared by the run.
    run_requested = models.BooleanField(_("run requested"), default=False)
    # Conditional tasks: checks whose condition did not hold since the last run
    # (kept here, not as one log row per check).
    skipped_checks = models.PositiveIntegerField(_("checks skipped"), default=0)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    on_success = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="chained_from",
        verbose_name=_("then run"), help_text=_("Tasks to run after this one succeeds."))
    calendars = models.ManyToManyField(
        "BlackoutCalendar", blank=True, related_name="tasks", verbose_name=_("blackout calendars"),
        help_text=_("Runs that fall inside a period of these calendars are skipped."))
    failure_streak = models.PositiveIntegerField(_("consecutive failures"), default=0)

    lease_owner = models.CharField(_("held by"), max_length=200, blank=True)
    lease_token = models.CharField(_("lease token"), max_length=40, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = ScheduledTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("scheduled task")
        verbose_name_plural = _("scheduled tasks")
        ordering = ["priority", "next_run", "pk"]
        indexes = [
            # The due query: only pending, enabled rows, by time then priority.
            models.Index(fields=["next_run", "priority"], name="sched_task_due_idx",
                         condition=Q(status="pending", enabled=True)),
            models.Index(fields=["lease_expires_at"], name="sched_task_lease_idx",
                         condition=Q(status="running")),
            models.Index(fields=["module_id", "task_type"], name="sched_task_type_idx"),
            models.Index(fields=["owner", "status"], name="sched_task_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=10),
                                   name="sched_task_priority_range"),
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

    def set_status(self, target: str) -> None:
        """Move along the lifecycle; raises InvalidTransition for impossible moves."""
        check_transition(self.status, target)
        self.status = target


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


class TaskExecutionLogQuerySet(models.QuerySet):
    def open(self) -> TaskExecutionLogQuerySet:
        return self.filter(status=RunStatus.RUNNING)

    def newest_first(self) -> TaskExecutionLogQuerySet:
        return self.order_by("-started_at", "-pk")


class TaskExecutionLog(models.Model):
    task = models.ForeignKey(ScheduledTask, on_delete=models.CASCADE, related_name="logs",
                             verbose_name=_("task"))
    run_id = models.CharField(_("run id"), max_length=40, db_index=True)
    scheduled_for = models.DateTimeField(_("scheduled for"))
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices,
                              default=RunStatus.RUNNING)
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
    # Set by services.interrupt(); the scheduler running this run stops its worker.
    interrupt_requested_at = models.DateTimeField(_("stop requested"), null=True, blank=True)
    interrupt_requested_by = models.CharField(_("stop requested by"), max_length=150, blank=True)

    objects = TaskExecutionLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("execution log")
        verbose_name_plural = _("execution logs")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Exactly once, as a database guarantee: one row per occurrence and attempt.
            models.UniqueConstraint(fields=["task", "scheduled_for", "attempt"],
                                    name="sched_log_one_run_per_occurrence"),
        ]
        indexes = [
            models.Index(fields=["task", "-started_at"], name="sched_log_task_recent_idx"),
            models.Index(fields=["started_at"], name="sched_log_started_idx"),
            models.Index(fields=["status"], name="sched_log_open_idx", condition=Q(status="running")),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} @ {self.scheduled_for:%Y-%m-%d %H:%M} #{self.attempt}: {self.status}"


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
    EDITED = "edited", _("Edited")
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")
    CANCELLED = "cancelled", _("Cancelled")
    RUN_REQUESTED = "run_requested", _("Run requested")
    INTERRUPTED = "interrupted", _("Run stopped")
    SHARED = "shared", _("Shared")
    UNSHARED = "unshared", _("Unshared")
    DELETED = "deleted", _("Deleted")


class TaskAuditEventQuerySet(models.QuerySet):
    def for_task(self, task_or_pk: ScheduledTask | int) -> TaskAuditEventQuerySet:
        """Events of one task, also after it was deleted."""
        pk = getattr(task_or_pk, "pk", task_or_pk)
        return self.filter(task_ref=pk)

    def newest_first(self) -> TaskAuditEventQuerySet:
        return self.order_by("-at", "-pk")


class TaskAuditEvent(models.Model):
    """Who did what to a task, and when. Written by ``scheduler_app.services`` only."""

    task = models.ForeignKey(ScheduledTask, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="audit_events", verbose_name=_("task"))
    # Kept when the task is deleted, so its history stays readable.
    task_ref = models.BigIntegerField(_("task id"), db_index=True)
    task_name = models.CharField(_("task name"), max_length=200, blank=True)
    module_id = models.CharField(_("module"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    # The actor's username at the time; empty means the system itself.
    actor_name = models.CharField(_("by (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), default=dj_timezone.now)
    # {"field": [old, new], ...} for edits; who and what for shares. Secrets masked.
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = TaskAuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("task audit event")
        verbose_name_plural = _("task audit events")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["task_ref", "-at"], name="sched_audit_task_recent_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor_name or "system"
        return f"{self.task_name or self.task_ref}: {self.get_action_display()} by {who}"


# --- blackout calendars, pause windows, calendar feed tokens ----------------------


class BlackoutCalendar(models.Model):
    """A named set of periods (public holidays, a freeze window) in which runs are skipped."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Blank: each period is read in the zone of the task it blocks (a holiday is a local date).
    timezone = models.CharField(_("time zone"), max_length=64, blank=True,
                                help_text=_("Empty: read the periods in each task's own time zone."))
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("blackout calendar")
        verbose_name_plural = _("blackout calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BlackoutPeriod(models.Model):
    """Whole days from ``start_date`` to ``end_date`` (inclusive), optionally cut by times."""

    calendar = models.ForeignKey(BlackoutCalendar, on_delete=models.CASCADE, related_name="periods",
                                 verbose_name=_("calendar"))
    label = models.CharField(_("label"), max_length=200, blank=True)
    start_date = models.DateField(_("from"))
    start_time = models.TimeField(_("from time"), null=True, blank=True,
                                  help_text=_("Empty: from the start of the day."))
    end_date = models.DateField(_("to"), help_text=_("The last day of the period."))
    end_time = models.TimeField(_("to time"), null=True, blank=True,
                                help_text=_("Empty: to the end of the day; else up to this time."))

    class Meta:
        verbose_name = _("blackout period")
        verbose_name_plural = _("blackout periods")
        ordering = ["start_date", "start_time", "pk"]
        indexes = [models.Index(fields=["calendar", "end_date"], name="sched_blackout_end_idx")]

    def __str__(self) -> str:
        span = f"{self.start_date}" if self.start_date == self.end_date else f"{self.start_date} – {self.end_date}"
        return f"{self.label} ({span})" if self.label else span

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as naive local wall times, ``[start, end)``."""
        start = dt.datetime.combine(self.start_date, self.start_time or dt.time())
        if self.end_time is None:
            end = dt.datetime.combine(self.end_date + dt.timedelta(days=1), dt.time())
        else:
            end = dt.datetime.combine(self.end_date, self.end_time)
        return start, end


class PauseWindowQuerySet(models.QuerySet):
    def active(self, now: dt.datetime) -> PauseWindowQuerySet:
        return self.filter(lifted_at__isnull=True, starts_at__lte=now, ends_at__gt=now)

    def ended(self, now: dt.datetime) -> PauseWindowQuerySet:
        """Windows whose end has come but whose tasks were not resumed yet."""
        return self.filter(lifted_at__isnull=True, ends_at__lte=now)


class PauseWindow(models.Model):
    """Every task of a module (or of all modules) paused until ``ends_at``, for a reason."""

    # Blank: every module.
    module_id = models.CharField(_("module"), max_length=64, blank=True, db_index=True,
                                 help_text=_("Empty: every module."))
    reason = models.CharField(_("reason"), max_length=300)
    starts_at = models.DateTimeField(_("from"), default=dj_timezone.now)
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    # Set when its tasks were resumed (at the end, or when lifted early).
    lifted_at = models.DateTimeField(_("resumed at"), null=True, blank=True, editable=False)
    lifted_by = models.CharField(_("resumed by"), max_length=150, blank=True, editable=False)
    # The tasks this window paused: only these are resumed at its end.
    tasks = models.ManyToManyField(ScheduledTask, blank=True, related_name="pause_windows",
                                   verbose_name=_("paused tasks"), editable=False)

    objects = PauseWindowQuerySet.as_manager()

    class Meta:
        verbose_name = _("pause window")
        verbose_name_plural = _("pause windows")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["ends_at"], name="sched_pause_open_idx",
                                condition=Q(lifted_at__isnull=True))]

    def __str__(self) -> str:
        scope = self.module_id or _("all modules")
        return f"{scope} until {self.ends_at:%Y-%m-%d %H:%M}: {self.reason}"


class FeedToken(models.Model):
    """A user's secret calendar-feed address; only its digest is stored. Revoke to cut it off."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="scheduler_feed_tokens", verbose_name=_("user"))
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The first characters of the token, to tell tokens apart in lists.
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --- notifications and system tasks (scheduler_app.notifications, scheduler_app.system_tasks) ---


class NotificationLevel(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user: object) -> NotificationQuerySet:
        return self.filter(recipient_id=getattr(user, "pk", None))

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def newest_first(self) -> NotificationQuerySet:
        return self.order_by("-created_at", "-pk")

    def mark_read(self, now: dt.datetime | None = None) -> int:
        """Mark the unread ones read; return how many were."""
        return self.filter(read_at__isnull=True).update(read_at=now or dj_timezone.now())


class Notification(models.Model):
    """An in-app message to one user, written by the ``in_app`` notification channel."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="scheduler_notifications", verbose_name=_("recipient"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=NotificationLevel.choices,
                             default=NotificationLevel.INFO)
    task = models.ForeignKey(ScheduledTask, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="notifications", verbose_name=_("sent by task"))
    module_id = models.CharField(_("module"), max_length=64, blank=True)
    # Same run (task and occurrence) and message: a retry does not notify twice.
    dedupe_key = models.CharField(_("delivery key"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="sched_notif_recent_idx"),
            models.Index(fields=["recipient"], name="sched_notif_unread_idx",
                         condition=Q(read_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="sched_notif_once_per_run",
                                    condition=~Q(dedupe_key="")),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class SystemTaskRecord(models.Model):
    """Binds a system task declared in code (``TaskProvider.system_tasks``) to its row."""

    key = models.CharField(_("key"), max_length=140, unique=True,
                           help_text=_("<module>.<name> as declared by the module."))
    task = models.OneToOneField(ScheduledTask, on_delete=models.CASCADE, related_name="system_record",
                                verbose_name=_("task"))
    # Digest of the declaration last applied: a changed declaration updates the task.
    fingerprint = models.CharField(_("declaration digest"), max_length=64)
    synced_at = models.DateTimeField(_("synced"), default=dj_timezone.now)
    # Set when the module no longer declares it: the task is disabled, not deleted.
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("system task record")
        verbose_name_plural = _("system task records")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

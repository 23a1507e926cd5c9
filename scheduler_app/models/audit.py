"""Who did what to a task, kept after the task is gone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.tasks import ScheduledTask


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
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ESCALATED = "escalated", _("Approval escalated")
    EXPIRED = "approval_expired", _("Approval expired")
    TRIGGERED = "triggered", _("Triggered by an event")
    LOCK_CLEARED = "lock_cleared", _("Lock cleared")


class AuditSource(models.TextChoices):
    """Where a change came from (set by the edge that called the services)."""

    ADMIN = "admin", _("Admin")
    PAGE = "page", _("Module page")
    COMMAND = "command", _("Command")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    EMAIL = "email", _("E-mail link")
    WEBHOOK = "webhook", _("Webhook")
    SYSTEM = "system", _("System")
    CODE = "code", _("Python code")


class TaskAuditEventQuerySet(models.QuerySet):
    def for_task(self, task_or_pk: ScheduledTask | int) -> TaskAuditEventQuerySet:
        """Events of one task, also after it was deleted."""
        pk = getattr(task_or_pk, "pk", task_or_pk)
        return self.filter(task_ref=pk)

    def newest_first(self) -> TaskAuditEventQuerySet:
        return self.order_by("-at", "-pk")


class TaskAuditEvent(models.Model):
    """Who did what to a task, and when. Written by ``scheduler_app.services`` only."""

    task = models.ForeignKey(
        ScheduledTask,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        verbose_name=_("task"),
    )
    # Kept when the task is deleted, so its history stays readable.
    task_ref = models.BigIntegerField(_("task id"), db_index=True)
    task_name = models.CharField(_("task name"), max_length=200, blank=True)
    module_id = models.CharField(_("module"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    # The actor's username at the time; empty means the system itself.
    actor_name = models.CharField(_("by (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), default=dj_timezone.now)
    source = models.CharField(
        _("from"), max_length=16, choices=AuditSource.choices, default=AuditSource.CODE
    )
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

"""In-app notifications and the record of system tasks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.tasks import ScheduledTask

# --- notifications and system tasks (scheduler_app.notifications, scheduler_app.services.system_tasks) ---


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

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="scheduler_notifications",
        verbose_name=_("recipient"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    level = models.CharField(
        _("level"), max_length=8, choices=NotificationLevel.choices, default=NotificationLevel.INFO
    )
    task = models.ForeignKey(
        ScheduledTask,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("sent by task"),
    )
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
            models.Index(
                fields=["recipient"],
                name="sched_notif_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                name="sched_notif_once_per_run",
                condition=~Q(dedupe_key=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class SystemTaskRecord(models.Model):
    """Binds a system task declared in code (``TaskProvider.system_tasks``) to its row."""

    key = models.CharField(
        _("key"),
        max_length=140,
        unique=True,
        help_text=_("<module>.<name> as declared by the module."),
    )
    task = models.OneToOneField(
        ScheduledTask,
        on_delete=models.CASCADE,
        related_name="system_record",
        verbose_name=_("task"),
    )
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

"""Statuses and choices shared by the models (the lifecycle is models/lifecycle.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from scheduler_app import schedules


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

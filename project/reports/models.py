"""A report: a named query over one of a few fixed data sources of the demo."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportSource(models.TextChoices):
    USERS = "users", _("Users")
    SCHEDULED_TASKS = "scheduled_tasks", _("Scheduled tasks")
    RUN_SUMMARY = "run_summary", _("Task runs by module, type and status")


class Report(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("data source"), max_length=32, choices=ReportSource.choices)
    period_days = models.PositiveSmallIntegerField(
        _("period (days)"),
        default=7,
        help_text=_("Time window of sources that count runs; ignored by the others."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["name"]  # noqa: RUF012 - Django compares Meta options with the migration

    def __str__(self) -> str:
        return self.name

"""Blackout calendars, pause windows and calendar feed tokens."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.tasks import ScheduledTask
from scheduler_app.models.tokens import DigestToken

# --- blackout calendars, pause windows, calendar feed tokens ----------------------


class BlackoutCalendar(models.Model):
    """A named set of periods (public holidays, a freeze window) in which runs are skipped."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Blank: each period is read in the zone of the task it blocks (a holiday is a local date).
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Empty: read the periods in each task's own time zone."),
    )
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

    calendar = models.ForeignKey(
        BlackoutCalendar,
        on_delete=models.CASCADE,
        related_name="periods",
        verbose_name=_("calendar"),
    )
    label = models.CharField(_("label"), max_length=200, blank=True)
    start_date = models.DateField(_("from"))
    start_time = models.TimeField(
        _("from time"), null=True, blank=True, help_text=_("Empty: from the start of the day.")
    )
    end_date = models.DateField(_("to"), help_text=_("The last day of the period."))
    end_time = models.TimeField(
        _("to time"),
        null=True,
        blank=True,
        help_text=_("Empty: to the end of the day; else up to this time."),
    )

    class Meta:
        verbose_name = _("blackout period")
        verbose_name_plural = _("blackout periods")
        ordering = ["start_date", "start_time", "pk"]
        indexes = [models.Index(fields=["calendar", "end_date"], name="sched_blackout_end_idx")]

    def __str__(self) -> str:
        span = (
            f"{self.start_date}"
            if self.start_date == self.end_date
            else f"{self.start_date} – {self.end_date}"
        )
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
    module_id = models.CharField(
        _("module"), max_length=64, blank=True, db_index=True, help_text=_("Empty: every module.")
    )
    reason = models.CharField(_("reason"), max_length=300)
    starts_at = models.DateTimeField(_("from"), default=dj_timezone.now)
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    # Set when its tasks were resumed (at the end, or when lifted early).
    lifted_at = models.DateTimeField(_("resumed at"), null=True, blank=True, editable=False)
    lifted_by = models.CharField(_("resumed by"), max_length=150, blank=True, editable=False)
    # The tasks this window paused: only these are resumed at its end.
    tasks = models.ManyToManyField(
        ScheduledTask,
        blank=True,
        related_name="pause_windows",
        verbose_name=_("paused tasks"),
        editable=False,
    )

    objects = PauseWindowQuerySet.as_manager()

    class Meta:
        verbose_name = _("pause window")
        verbose_name_plural = _("pause windows")
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(
                fields=["ends_at"], name="sched_pause_open_idx", condition=Q(lifted_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        scope = self.module_id or _("all modules")
        return f"{scope} until {self.ends_at:%Y-%m-%d %H:%M}: {self.reason}"


class FeedToken(DigestToken):
    """A user's secret calendar-feed address; only its digest is stored. Revoke to cut it off."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="scheduler_feed_tokens",
        verbose_name=_("user"),
    )

    class Meta(DigestToken.Meta):
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

"""Contacts, the opportunities with them, and meetings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Contact(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_contacts",
        verbose_name=_("account owner"),
    )
    is_customer = models.BooleanField(_("customer"), default=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    # Set when a re-engage nudge went out; new activity makes the contact eligible again.
    reengage_requested_at = models.DateTimeField(_("re-engage requested"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "pk"]  # noqa: RUF012 - Django compares Meta options with the migration
        indexes = [
            models.Index(
                fields=["is_customer", "last_activity_at"], name="crm_contact_activity_idx"
            )
        ]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def touch(self, when: dt.datetime | None = None) -> None:
        """Record activity with this contact now."""
        self.last_activity_at = when or timezone.now()
        self.save(update_fields=["last_activity_at"])


class OpportunityStage(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Opportunity(models.Model):
    title = models.CharField(_("title"), max_length=200)
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="opportunities", verbose_name=_("contact")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_opportunities",
        verbose_name=_("owner"),
    )
    stage = models.CharField(
        _("stage"), max_length=8, choices=OpportunityStage.choices, default=OpportunityStage.OPEN
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=0)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    follow_up_sent_at = models.DateTimeField(_("follow-up sent"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-last_activity_at", "pk"]  # noqa: RUF012
        indexes = [models.Index(fields=["stage", "last_activity_at"], name="crm_opp_quiet_idx")]  # noqa: RUF012

    def __str__(self) -> str:
        return self.title

    def mark_won(self, when: dt.datetime | None = None) -> None:
        """Close as won; saving sends the ``crm.opportunity.won`` event (after commit)."""
        self._close(OpportunityStage.WON, when)

    def mark_lost(self, when: dt.datetime | None = None) -> None:
        self._close(OpportunityStage.LOST, when)

    def _close(self, stage: str, when: dt.datetime | None) -> None:
        self.stage = stage
        self.closed_at = self.last_activity_at = when or timezone.now()
        self.save()


class Meeting(models.Model):
    title = models.CharField(_("title"), max_length=200)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
        verbose_name=_("contact"),
    )
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_organized_meetings",
        verbose_name=_("organizer"),
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="crm_meetings",
        verbose_name=_("attendees"),
    )
    starts_at = models.DateTimeField(_("starts"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at", "pk"]  # noqa: RUF012
        indexes = [
            models.Index(
                fields=["starts_at"],
                name="crm_meeting_unreminded_idx",  # noqa: RUF012
                condition=Q(reminder_sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M})"

"""Config forms of the CRM task types (the notification channels come with each)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from scheduler_app.notifications import NotificationConfigForm


class MeetingReminderForm(NotificationConfigForm):
    minutes_before = forms.IntegerField(
        label=_("Minutes before"),
        min_value=5,
        max_value=7 * 24 * 60,
        initial=60,
        help_text=_(
            "Remind the attendees of meetings starting within this many minutes. "
            "Schedule the task at least this often."
        ),
    )

    field_order = ("minutes_before", "channels")


class FollowUpForm(NotificationConfigForm):
    quiet_days = forms.IntegerField(
        label=_("Quiet for (days)"),
        min_value=1,
        max_value=365,
        initial=7,
        help_text=_(
            "Nudge the owner of an open opportunity with no activity for this long; "
            "once per quiet spell."
        ),
    )

    field_order = ("quiet_days", "channels")


class ReengageInactiveForm(NotificationConfigForm):
    inactive_days = forms.IntegerField(
        label=_("Inactive for (days)"),
        min_value=1,
        max_value=3650,
        initial=30,
        help_text=_(
            "Customers with no activity for this long are handed to their account "
            "owner to re-engage; the task runs only when there are some."
        ),
    )

    field_order = ("inactive_days", "channels")


class AnnounceWinForm(NotificationConfigForm):
    team = forms.ModelChoiceField(
        label=_("Also tell"),
        queryset=Group.objects.all(),
        required=False,
        help_text=_("The members of this group hear of every win, beside its owner."),
    )

    field_order = ("team", "channels")

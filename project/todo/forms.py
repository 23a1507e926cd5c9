"""Config forms of the Todo task types (the notification channels come with each)."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from scheduler_app.notifications import NotificationConfigForm


class MilestonesField(forms.CharField):
    """Percentages separated by commas (``25, 50, 75, 100``); cleans to a sorted list of ints."""

    def to_python(self, value: object) -> list[int]:  # type: ignore[override]
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value]
        else:
            items = [v for v in re.split(r"[,;\s]+", str(value or "")) if v]
        try:
            numbers = sorted({int(v) for v in items})
        except ValueError:
            raise ValidationError(
                _("Give whole percentages separated by commas, e.g. 25, 50, 100."), code="invalid"
            ) from None
        if not numbers:
            raise ValidationError(_("Give at least one milestone."), code="required")
        if numbers[0] < 1 or numbers[-1] > 100:
            raise ValidationError(
                _("Milestones are percentages from 1 to 100."), code="out_of_range"
            )
        return numbers

    def prepare_value(self, value: object) -> object:
        return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value


class DeadlineReminderForm(NotificationConfigForm):
    hours_before = forms.IntegerField(
        label=_("Hours before"),
        min_value=1,
        max_value=30 * 24,
        initial=24,
        help_text=_("Remind assignees of open todos due within this many hours (once per todo)."),
    )

    field_order = ("hours_before", "channels")


class GoalMilestoneAlertForm(NotificationConfigForm):
    milestones = MilestonesField(
        label=_("Milestones (%)"),
        initial="25, 50, 75, 100",
        help_text=_(
            "Alert the goal's owner and team when progress reaches each of these. "
            "On the “todo.goal.progressed” event it alerts at once."
        ),
    )

    field_order = ("milestones", "channels")


class OverdueEscalationForm(NotificationConfigForm):
    grace_hours = forms.IntegerField(
        label=_("Grace (hours)"),
        min_value=0,
        max_value=30 * 24,
        initial=24,
        help_text=_("Escalate open todos this long past their due time."),
    )
    fallback_group = forms.ModelChoiceField(
        label=_("Otherwise escalate to"),
        queryset=Group.objects.all(),
        required=False,
        help_text=_("Used when the assignee has no manager and the todo no team."),
    )

    field_order = ("grace_hours", "fallback_group", "channels")


class TeamDigestForm(NotificationConfigForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Group.objects.all())
    days = forms.IntegerField(
        label=_("Period (days)"),
        min_value=1,
        max_value=31,
        initial=7,
        help_text=_("Done in the last and due in the next so many days."),
    )

    field_order = ("team", "days", "channels")

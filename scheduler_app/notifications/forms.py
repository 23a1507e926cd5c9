"""Config form pieces: let the task's owner choose the notification channels."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduler_app.notifications.channels import IN_APP, channel_choices


class ChannelsField(forms.MultipleChoiceField):
    """The channels to notify by; cleans to a list of channel names."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", channel_choices)
        kwargs.setdefault("label", _("Notify by"))
        kwargs.setdefault("initial", [IN_APP])
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("None chosen: in the app. A channel that fails fails the run, which is retried."),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        return super().clean(value) or [IN_APP]

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, str):  # "email" or "email,in_app", as a command line gives it
            value = [v.strip() for v in value.split(",") if v.strip()]
        return super().to_python(value)


class NotificationConfigForm(forms.Form):
    """Base for config forms of task types that notify people."""

    channels = ChannelsField()

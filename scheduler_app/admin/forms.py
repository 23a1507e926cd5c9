"""The admin's change form: module, type, owner and system flag are never fields."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from scheduler_app import services
from scheduler_app.models import ScheduledTask

#: Model fields the admin form edits; everything else is read-only.
ADMIN_EDITABLE = (
    "name",
    "enabled",
    "schedule_type",
    "cron_expression",
    "run_at",
    "interval_every",
    "interval_unit",
    "event_name",
    "timezone",
    "priority",
    "max_retries",
    "timeout",
    "allow_overlap",
    "misfire_policy",
    "misfire_grace",
    "tags",
    "calendars",
)
SCHEDULE_MODEL_FIELDS = (
    "schedule_type",
    "cron_expression",
    "run_at",
    "interval_every",
    "interval_unit",
    "event_name",
    "timezone",
)
#: Model field -> services.update() argument.
UPDATE_NAMES = {"cron_expression": "cron", "event_name": "event"}
#: services error key -> the form field that shows it.
SERVICE_ERROR_FIELDS = {
    "cron": "cron_expression",
    "event": "event_name",
    "interval": "interval_every",
}


class ScheduledTaskAdminForm(forms.ModelForm):
    #: Set per request by the ModelAdmin (``get_form``): who is saving.
    acting_user: Any = None

    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Comma-separated, e.g. nightly, finance.")
    )

    class Meta:
        model = ScheduledTask
        fields = ADMIN_EDITABLE
        widgets = {"calendars": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "tags" in self.fields:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        return [t for t in re.split(r"[,\s]+", self.cleaned_data.get("tags") or "") if t]

    def schedule_changed(self) -> bool:
        return bool(set(SCHEDULE_MODEL_FIELDS) & set(self.changed_data))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        # Check the schedule whatever else is wrong (an empty name must not hide a bad cron),
        # unless one of its own fields already failed.
        if self.schedule_changed() and not set(self.errors) & set(SCHEDULE_MODEL_FIELDS):
            every = data.get("interval_every")
            try:
                services.build_schedule(
                    data.get("schedule_type") or "",
                    cron=data.get("cron_expression"),
                    run_at=data.get("run_at"),
                    interval=(every, data.get("interval_unit") or "minutes") if every else None,
                    event=data.get("event_name"),
                    timezone_name=data.get("timezone"),
                )
            except ValidationError as exc:
                self._add_service_errors(exc)
        if self.errors or not self.instance.pk:
            return data
        # Ask the services now, so that a refusal shows on the form and nothing is saved
        # (the admin saves, attaches calendars and logs only after a valid form).
        try:
            services.validate_update(
                self.instance, user=self.acting_user, **self.update_arguments()
            )
        except ValidationError as exc:
            self._add_service_errors(exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc) or _("You may not change this task."))
        return data

    def _add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.error_dict.items():
            field = SERVICE_ERROR_FIELDS.get(key, key)
            self.add_error(field if field in self.fields else None, messages)

    def update_arguments(self) -> dict[str, Any]:
        """The services.update() keyword arguments for what changed."""
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        if self.schedule_changed():
            every = data.get("interval_every")
            changes.update(
                schedule_type=data["schedule_type"],
                cron=data.get("cron_expression") or "",
                run_at=data.get("run_at"),
                interval=(every, data.get("interval_unit") or "minutes") if every else None,
                event=data.get("event_name") or "",
                timezone=data.get("timezone"),
            )
        for field in self.changed_data:
            if field not in SCHEDULE_MODEL_FIELDS:
                changes[UPDATE_NAMES.get(field, field)] = data.get(field)
        return changes

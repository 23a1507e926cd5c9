"""The admin's change form: module, type, owner and system flag are never fields."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from scheduler_app import schedules, services
from scheduler_app.models import ScheduledTask, run_options

#: Model fields the admin form edits; everything else is read-only.
ADMIN_EDITABLE = (
    "name",
    run_options.ENABLED,
    *schedules.COLUMNS,
    *run_options.NAMES,
    "calendars",
)
#: services error key (an argument) -> the form field (a column) that shows it.
SERVICE_ERROR_FIELDS = schedules.renamed("argument", "column")


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
        return bool(set(schedules.COLUMNS) & set(self.changed_data))

    def schedule_value(self) -> schedules.Schedule:
        """The schedule as entered (its fields are the model's columns), not yet validated."""
        return schedules.Schedule.from_columns(self.cleaned_data)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        # Check the schedule whatever else is wrong (an empty name must not hide a bad cron),
        # unless one of its own fields already failed.
        if self.schedule_changed() and not set(self.errors) & set(schedules.COLUMNS):
            try:
                services.check_schedule(self.schedule_value())
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
            changes.update(self.schedule_value().arguments())
        for field in self.changed_data:
            if field not in schedules.COLUMNS:
                changes[field] = data.get(field)
        return changes

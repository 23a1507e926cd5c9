"""The admin's change form: module, type, owner and system flag are never fields."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from scheduler_app import schedules, services
from scheduler_app.models import ScheduledTask, run_options

if TYPE_CHECKING:  # the warning is built on a save only; a crontab pass never loads it
    from scheduler_app.presentation.overlap_warning import OverlapWarning

#: Model fields the admin form edits; everything else is read-only.
ADMIN_EDITABLE = (
    "name",
    run_options.ENABLED,
    *schedules.COLUMNS,
    *run_options.NAMES,
    "calendars",
)
#: The code of the error that holds a save back for the overlap warning.
OVERLAPS_CODE = "confirm_overlaps"
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

    resume = forms.BooleanField(
        label=_("Run again on this schedule"),
        required=False,
        help_text=_(
            "This task has ended. Tick to plan its next run from now; otherwise your "
            "changes are kept and it stays ended."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.status not in services.RESUMABLE:
            self.fields.pop("resume", None)  # only an ended task is asked
        if self.instance.pk and "tags" in self.fields:
            self.initial["tags"] = ", ".join(self.instance.tags or [])
        # Set by clean() when the new schedule repeats or meets other tasks and the person
        # has not ticked "schedule it anyway"; the page shows it instead of an error.
        self.overlaps: OverlapWarning | None = None

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
        schedule = None
        if self.schedule_changed() and not set(self.errors) & set(schedules.COLUMNS):
            try:
                schedule = services.check_schedule(self.schedule_value())
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
        from scheduler_app.presentation import overlap_warning

        if schedule is not None and not self.errors and not overlap_warning.confirmed(self.data):
            self._warn_of_overlaps(schedule)
        return data

    def _warn_of_overlaps(self, schedule: schedules.Schedule) -> None:
        """Hold the save back while the new schedule repeats or meets other tasks.

        The admin saves only a valid form, so the warning is carried by an error with
        its own code; the ModelAdmin shows the warning in its place (``saving``).
        """
        from scheduler_app.presentation import overlap_warning

        self.overlaps = overlap_warning.check_change(self.instance, schedule, user=self.acting_user)
        if self.overlaps is not None:
            self.add_error(
                None,
                ValidationError(
                    _("Confirm the schedule: it repeats or meets the tasks listed."),
                    code=OVERLAPS_CODE,
                ),
            )

    @property
    def only_overlaps(self) -> bool:
        """Whether the one thing holding the save back is the overlap warning."""
        errors = self.errors.as_data()
        return (
            self.overlaps is not None
            and list(errors) == ["__all__"]
            and all(e.code == OVERLAPS_CODE for e in errors["__all__"])
        )

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

"""Scheduling forms: a task type's ``config_form`` plus the schedule fields.

Forms validate and show errors; creating and changing tasks is left to
:mod:`scheduler_app.services`, whose field errors land back on the fields.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app import schedules, services, task_configs
from scheduler_app.models import IntervalUnit, ScheduledTask, ScheduleType, run_options
from scheduler_app.presentation import edge_inputs, overlap_warning
from scheduler_app.providers import SchedulableTask
from scheduler_app.quoting import bound_message, clip_inputs, long_inputs

CONFIG_PREFIX = "config"
#: The schedule's fields on this form (declared in ``schedules.fields``).
SCHEDULE_FIELDS = schedules.INPUTS
#: The task's name, the run options this form offers (``models.run_options``) and the switch.
OPTION_FIELDS = ("name", *run_options.SCHEDULING_FORM_NAMES, run_options.ENABLED)
# services error keys (arguments, or columns) -> the form field that shows them.
ERROR_FIELD_ALIASES = {
    **schedules.renamed("column", "input"),
    **schedules.renamed("argument", "input"),
}


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class ZoneInput(forms.TextInput):
    """A text input with a datalist of IANA zone names."""

    template_name = "scheduler_app/widgets/zone_input.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, {**(attrs or {}), "list": f"{name}-zones"})
        context["zones"] = time_zone_names()
        return context


class WallClockDateTimeField(forms.DateTimeField):
    """A local date and time, kept naive: it is read in the task's own time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()
        for fmt in self.input_formats:
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            if not schedules.run_at_in_range(parsed):
                # The services' one range of run times, told here before anything else.
                raise ValidationError(schedules.run_at_range_message(), code="out_of_range")
            return parsed
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def prepare_value(self, value: Any) -> Any:
        return value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, dt.datetime) else value


def add_service_errors(error: ValidationError, *forms_by_field: forms.Form) -> None:
    """Put a service's ValidationError on the form that owns each field."""
    if not hasattr(error, "error_dict"):
        forms_by_field[0].add_error(None, error)
        return
    for key, messages in error.error_dict.items():
        field = ERROR_FIELD_ALIASES.get(key, key)
        target = next((f for f in forms_by_field if field in f.fields), None)
        if target is None:
            forms_by_field[0].add_error(None, messages)
        else:
            target.add_error(field, messages)


def bound_form_errors(form: forms.Form) -> None:
    """Cut what ``form``'s own messages repeat of its input to the one quote bound.

    A config form is a project's: its fields' messages (``Select a valid choice. … is
    not one of the available choices``) may quote a pasted novel whole.
    """
    data = form.data
    given = long_inputs(dict(data.lists()) if hasattr(data, "lists") else dict(data))
    for errors in form.errors.values():
        errors[:] = [
            ValidationError(bound_message(clip_inputs(message, given)), code=error.code)
            for error in errors.as_data()
            for message in error.messages
        ]


class ScheduleSpecForm(forms.Form):
    """When a task runs; ``clean()`` validates through the services' schedule rules."""

    schedule_type = forms.ChoiceField(
        label=_("Schedule type"), choices=ScheduleType.choices, initial=ScheduleType.CRON
    )
    cron = forms.CharField(
        label=_("Cron expression"),
        required=False,
        max_length=schedules.MAX_CRON_LENGTH,
        help_text=_("Five fields (minute hour day month weekday) or a macro such as @daily."),
        # "e.g." so that the hint is never read as a value already filled in.
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 0 6 * * 1-5"), "autocomplete": "off"}),
    )
    run_at = WallClockDateTimeField(
        label=_("Run at"),
        required=False,
        help_text=_(
            "Local time in the chosen time zone. For recurring schedules: the first run (optional)."
        ),
    )
    interval_every = forms.IntegerField(label=_("Every"), required=False, min_value=1)
    interval_unit = forms.ChoiceField(
        label=_("Interval unit"),
        choices=IntervalUnit.choices,
        required=False,
        initial=IntervalUnit.HOURS,
    )
    event = forms.CharField(label=_("Event name"), required=False, max_length=120)
    timezone = forms.CharField(label=_("Time zone"), max_length=64, widget=ZoneInput())

    #: Whether a one-time run in the past is an error (not when the schedule is unchanged).
    check_past = True

    def __init__(self, *args: Any, now: dt.datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        self.schedule: schedules.Schedule | None = None
        if not self.initial.get("timezone") and not self.fields["timezone"].initial:
            self.fields["timezone"].initial = timezone.get_current_timezone_name()

    def schedule_value(self) -> schedules.Schedule:
        """The schedule as entered (not yet validated), for the services."""
        return schedules.Schedule.from_inputs(self.cleaned_data)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if self.errors:
            return data
        try:
            self.schedule = services.check_schedule(
                self.schedule_value(), now=self.now, check_past=self.check_past
            )
        except ValidationError as exc:
            add_service_errors(exc, self)
        return data


class TaskOptionsForm(ScheduleSpecForm):
    """The schedule plus the task's name and run options."""

    name = forms.CharField(
        label=_("Name"), max_length=200, required=False, help_text=_("Empty: the task type's name.")
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=run_options.PRIORITY.lowest,
        max_value=run_options.PRIORITY.highest,
        initial=5,
        help_text=_("1 is the highest, 10 the lowest."),
    )
    max_retries = forms.IntegerField(
        label=_("Max retries"),
        min_value=run_options.MAX_RETRIES.lowest,
        max_value=run_options.MAX_RETRIES.highest,
        required=False,
    )
    timeout = forms.IntegerField(
        label=_("Timeout (seconds)"),
        min_value=run_options.TIMEOUT.lowest,
        max_value=run_options.TIMEOUT.highest,
        required=False,
    )
    allow_overlap = forms.BooleanField(label=_("Allow overlapping runs"), required=False)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Comma-separated, e.g. nightly, finance."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    field_order = ("name", *SCHEDULE_FIELDS, *OPTION_FIELDS[1:])


def _initial_from_task(task: ScheduledTask) -> dict[str, Any]:
    zone = task.schedule.zone if task.timezone else dt.UTC
    columns = task.schedule.columns()
    initial = {f.input: columns[f.column] for f in schedules.FIELDS}
    # Minute precision, as the input shows it, so an untouched field is unchanged.
    if task.run_at:
        initial["run_at"] = task.run_at.astimezone(zone).replace(
            tzinfo=None, second=0, microsecond=0
        )
    initial["interval_unit"] = task.interval_unit or IntervalUnit.HOURS
    return {
        "name": task.name,
        **initial,
        **{name: getattr(task, name) for name in OPTION_FIELDS[1:]},
        "tags": ", ".join(task.tags or []),
    }


class TaskScheduleForm:
    """The forms of a scheduling page: options/schedule, the task type's config and the
    workflow's edges (:mod:`scheduler_app.presentation.edge_inputs`).

    ``save()`` calls :func:`services.schedule` (new) or :func:`services.update`
    (edit) and returns the task, or None with the services' errors on the fields.
    """

    def __init__(
        self,
        module_id: str,
        task_type: str,
        *,
        user: Any,
        data: Any = None,
        files: Any = None,
        instance: ScheduledTask | None = None,
        now: dt.datetime | None = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        self.module_id = module_id
        self.task_type = task_type
        self.user = user
        self.instance = instance
        self.task_cls: type[SchedulableTask] = services.resolve_task_type(module_id, task_type)
        options_initial = _initial_from_task(instance) if instance else dict(initial or {})
        config_initial = (
            task_configs.mask_secrets(self.task_cls, instance.config) if instance else None
        )
        self.options = TaskOptionsForm(data, files, initial=options_initial, now=now)
        if instance is None:
            del self.options.fields["enabled"]
            # Said in the help text, not as a placeholder that looks like a name already given.
            self.options.fields["name"].help_text = _("Empty: “%(name)s”.") % {
                "name": self.task_cls.name or task_type
            }
        if instance is not None and instance.status in services.RESUMABLE:
            # An ended task keeps its end through an edit unless the person asks again.
            self.options.fields["resume"] = forms.BooleanField(
                label=_("Run again on this schedule"),
                required=False,
                help_text=_(
                    "This task has ended (%(status)s). Tick to plan its next run from now; "
                    "otherwise your changes are kept and it stays ended."
                )
                % {"status": instance.get_status_display()},
            )
        self.config = self.task_cls.config_form(
            data, files, prefix=CONFIG_PREFIX, initial=config_initial
        )
        self.edges = edge_inputs.EdgesForm(data, user=user, instance=instance)
        if instance is not None and data is not None:
            # An unchanged schedule is kept as it is, even if its start has passed.
            self.options.check_past = bool(set(SCHEDULE_FIELDS) & set(self.options.changed_data))
        # Set by save() when the schedule repeats or meets other tasks and was not confirmed.
        self.overlaps: overlap_warning.OverlapWarning | None = None
        self.overlaps_confirmed = overlap_warning.confirmed(data)

    @property
    def forms(self) -> tuple[forms.Form, forms.Form, forms.Form]:
        return (self.options, self.config, self.edges)

    def is_valid(self) -> bool:
        valid = all([self.options.is_valid(), self.config.is_valid(), self.edges.is_valid()])
        if not valid:
            bound_form_errors(self.options)
            bound_form_errors(self.config)
            bound_form_errors(self.edges)
        return valid

    @property
    def non_field_errors(self) -> list[str]:
        return [
            *self.options.non_field_errors(),
            *self.config.non_field_errors(),
            *self.edges.non_field_errors(),
        ]

    def config_value(self) -> dict[str, Any]:
        return task_configs.to_json(self.config.cleaned_data)

    def _create(self) -> ScheduledTask:
        data = self.options.cleaned_data
        return services.schedule(
            user=self.user,
            module=self.module_id,
            task_type=self.task_type,
            config=self.config_value(),
            **self.options.schedule_value().arguments(),
            name=data.get("name"),
            priority=data["priority"],
            max_retries=data.get("max_retries"),
            timeout=data.get("timeout"),
            allow_overlap=data.get("allow_overlap", False),
            tags=data.get("tags") or (),
        )

    def changes(self) -> dict[str, Any]:
        """The services.update() arguments for the fields the user changed."""
        data = self.options.cleaned_data
        changed = set(self.options.changed_data)
        result: dict[str, Any] = {}
        if changed & set(SCHEDULE_FIELDS):
            result.update(self.options.schedule_value().arguments())
        for field in OPTION_FIELDS:
            if field in changed:
                result[field] = data.get(field)
        if "tags" in result:
            result["tags"] = result["tags"] or ()
        if self.config.has_changed():
            result["config"] = self.config_value()
        return result

    def save(self) -> ScheduledTask | None:
        """Create or update the task through the services; None if they refused, or if the
        schedule repeats or meets other tasks and the person has not confirmed (``overlaps``)."""
        if not self.is_valid():
            return None
        if not self.overlaps_confirmed:
            self.overlaps = overlap_warning.check(self)
            if self.overlaps is not None:
                return None
        try:
            # The task and its edges are saved together: a refused edge saves neither.
            with transaction.atomic():
                if self.instance is None:
                    task = self._create()
                else:
                    task = services.update(
                        self.instance,
                        user=self.user,
                        resume=bool(self.options.cleaned_data.get("resume")),
                        **self.changes(),
                    )
                self.edges.save(task)
            return task
        except ValidationError as exc:
            add_service_errors(exc, self.options, self.config, self.edges)
        except PermissionDenied as exc:
            self.options.add_error(None, str(exc) or _("You may not do this."))
        return None

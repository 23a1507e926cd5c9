"""What the API reads and writes. Input is only parsed here; the services validate it.

Field types and absolute bounds are checked here (so a wrong type or a huge
value is a clear 400 before anything runs); every rule of the scheduler
(ranges, the schedule, the config form, permissions) is the services' own,
with their messages.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduler_app import policy, schedules, services
from scheduler_app.models import (
    IntervalUnit,
    MisfirePolicy,
    RunStatus,
    ScheduledTask,
    ScheduleType,
    run_options,
)

#: Absolute bounds of free text (the services refuse lower limits with their own messages).
MAX_TEXT = 1000
MAX_LIST = 100
#: Characters of a traceback shown.
MAX_TRACEBACK = 20000
#: Task fields that exist but are never written through the API.
FIXED_FIELDS = frozenset(
    {"id", "module", "task_type", "owner", "is_system", "status", "next_run", "last_run"}
)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, naming them."""

    #: Known fields that may not be sent, with the reason.
    refused_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            errors = {}
            for key in list(data)[:MAX_LIST]:
                if key in self.fields:
                    continue
                errors[str(key)[:80]] = [
                    _("This field cannot be changed.")
                    if key in self.refused_fields
                    else _("Unknown field.")
                ]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """Text only: a number, a boolean, a list or an object is refused, not turned into text."""

    default_error_messages = {"not_text": gettext_lazy("Enter text, not {type}.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text", type=_json_type(data))
        return super().to_internal_value(data)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return _("a boolean")
    if isinstance(value, (int, float)):
        return _("a number")
    if isinstance(value, (list, tuple)):
        return _("a list")
    if isinstance(value, dict):
        return _("an object")
    return type(value).__name__


class ConfigField(serializers.JSONField):
    """The task type's configuration: a JSON object (its form checks the values)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("The configuration must be a JSON object."))
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": True})
class ConfigSchemaField(ConfigField):
    pass


def _text(max_length: int = MAX_TEXT, **kwargs: Any) -> serializers.CharField:
    return TextField(
        max_length=max_length, required=False, allow_blank=True, trim_whitespace=False, **kwargs
    )


def _number(**kwargs: Any) -> serializers.IntegerField:
    # Ranges are the services' (their messages); this bound only keeps numbers sane.
    return serializers.IntegerField(
        required=False, min_value=-(2**31), max_value=2**31 - 1, **kwargs
    )


# The schedule as the services' arguments (schedules.ARGUMENTS); a test keeps the two equal.
class ScheduleFields(StrictSerializer):
    schedule_type = serializers.ChoiceField(choices=ScheduleType.choices)
    cron = _text(help_text="Cron expression (schedule_type cron or conditional).")
    run_at = _text(
        100,
        help_text="ISO date and time; without an offset it is a wall time in `timezone`.",
    )
    interval = _text(100, help_text="For recurring schedules, e.g. “15 minutes” or “2 hours”.")
    event = _text(help_text="Event name (schedule_type event).")
    timezone = _text(100, help_text="IANA time zone, e.g. Europe/Berlin; default UTC.")


# The run options as ``models.run_options`` declares them; tests/test_run_options.py keeps
# the two equal.
class TaskWriteFields(ScheduleFields):
    name = _text()
    config = ConfigSchemaField(required=False)
    priority = _number(help_text="1 is the highest, 10 the lowest.")
    max_retries = _number(allow_null=True)
    timeout = _number(allow_null=True, help_text="Seconds.")
    allow_overlap = serializers.BooleanField(required=False)
    tags = serializers.ListField(
        child=TextField(max_length=100), required=False, max_length=MAX_LIST
    )
    misfire_policy = serializers.ChoiceField(choices=MisfirePolicy.choices, required=False)
    misfire_grace = _number(allow_null=True, help_text="Seconds; null: the site default.")
    calendars = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_LIST,
        help_text="Ids of blackout calendars.",
    )
    on_success = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_LIST,
        help_text="Ids of tasks to run after each success.",
    )


class TaskCreateSerializer(TaskWriteFields):
    """POST tasks/: the arguments of ``services.schedule``."""

    refused_fields = FIXED_FIELDS - {"module", "task_type"}

    module = TextField(max_length=64)
    task_type = TextField(max_length=64)
    condition = _text(200, help_text="Conditional schedules: a note of the condition meant.")
    allow_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Schedule even if an identical task you can see exists (else 409).",
    )


class TaskUpdateSerializer(TaskWriteFields):
    """PATCH tasks/{id}/: any of ``services.EDITABLE_FIELDS``."""

    refused_fields = FIXED_FIELDS
    enabled = serializers.BooleanField(required=False)
    resume = serializers.BooleanField(
        required=False,
        help_text=(
            "A task that has succeeded or failed stays ended through a change; true plans "
            "its next run from now (a one-time task needs a run_at in the future)."
        ),
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["schedule_type"].required = False
        wanted = {*services.EDITABLE_FIELDS, "resume"}
        return {name: field for name, field in fields.items() if name in wanted}


class TaskSerializer(serializers.ModelSerializer):
    """A task as listed."""

    module = serializers.CharField(source="module_id")
    # The schedule reads as the scheduling form names it (schedules.INPUTS).
    cron = serializers.CharField(source="cron_expression")
    event = serializers.CharField(source="event_name")
    # Blank until the first run / for schedules without an interval.
    last_status = serializers.ChoiceField(choices=RunStatus.choices, allow_blank=True)
    interval_unit = serializers.ChoiceField(choices=IntervalUnit.choices, allow_blank=True)
    schedule = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    config = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = ScheduledTask
        fields: tuple[str, ...] = (
            "id",
            "name",
            "module",
            "task_type",
            "status",
            "enabled",
            "is_system",
            "owner",
            *schedules.INPUTS,
            "schedule",
            *run_options.NAMES,
            "retry_count",
            "config",
            "next_run",
            "last_run",
            "last_status",
            "error_message",
            "run_count",
            "failure_streak",
            "created_at",
            "updated_at",
            "actions",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_schedule(self, task: ScheduledTask) -> str:
        """The schedule in words."""
        # Describing a cron takes milliseconds; a page of tasks mostly repeats a few schedules.
        seen = self.context.setdefault("descriptions", {})
        key = task.schedule
        if key not in seen:
            seen[key] = task.describe_schedule()
        return seen[key]

    def get_owner(self, task: ScheduledTask) -> str | None:
        return task.owner.get_username() if task.owner_id and task.owner else None

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_config(self, task: ScheduledTask) -> dict[str, Any]:
        """The config; secret fields masked."""
        return services.visible_config(task)

    def get_tags(self, task: ScheduledTask) -> list[str]:
        return [str(t) for t in task.tags] if isinstance(task.tags, list) else []

    def get_actions(self, task: ScheduledTask) -> list[str]:
        """What the caller may do to this task now."""
        allowed = self.context.get("actions", {}).get(task.pk, frozenset())
        return sorted(allowed & policy.possible_actions(task))


def planned_rows(runs: list[Any]) -> list[dict[str, str]]:
    """PlannedRun values as JSON rows; times keep the schedule's zone (its UTC offset)."""
    return [{"at": run.at.isoformat(), "dst": run.dst, "note": run.note} for run in runs]


class PlannedRunSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="With the UTC offset of the schedule's time zone.")
    dst = serializers.CharField(help_text="What a DST change does to this run; empty if nothing.")
    note = serializers.CharField()


class TaskRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    next_run = serializers.DateTimeField(allow_null=True)


class TaskDetailSerializer(TaskSerializer):
    """A task with its next runs (and their DST notes) and the tasks firing in the same minute."""

    next_runs = serializers.SerializerMethodField()
    same_minute = serializers.SerializerMethodField()

    class Meta(TaskSerializer.Meta):
        fields = (*TaskSerializer.Meta.fields, "next_runs", "same_minute")
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(PlannedRunSerializer(many=True))
    def get_next_runs(self, task: ScheduledTask) -> list[dict[str, Any]]:
        return self.context.get("next_runs", [])

    @extend_schema_field(TaskRefSerializer(many=True))
    def get_same_minute(self, task: ScheduledTask) -> list[dict[str, Any]]:
        return self.context.get("same_minute", [])


class CronValidateSerializer(StrictSerializer):
    expression = TextField(max_length=MAX_TEXT, trim_whitespace=False)
    timezone = TextField(max_length=100, required=False, default="UTC")
    count = serializers.IntegerField(min_value=1, max_value=50, required=False, default=5)


class CronResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    expression = serializers.CharField(help_text="The expression as stored (normalized).")
    timezone = serializers.CharField()
    description = serializers.CharField()
    next_runs = PlannedRunSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class ExistingTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ConflictSerializer(ErrorSerializer):
    existing = ExistingTaskSerializer()

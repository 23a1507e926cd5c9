"""Task configuration: validated by the task type's form, stored as JSON."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from scheduler_app.providers import EmptyConfigForm, SchedulableTask
from scheduler_app.quoting import bound_message, clip_inputs, long_inputs

SECRET_MASK = "••••••••"


def to_json(value: Any) -> Any:
    """Turn cleaned form data into JSON-safe values (model instances become pks)."""
    if isinstance(value, models.Model):
        return to_json(value.pk)
    if isinstance(value, models.QuerySet):
        return [to_json(pk) for pk in value.values_list("pk", flat=True)]
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def clean_config(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> dict[str, Any]:
    """Validate ``config`` with the task type's form; return cleaned Python values.

    Raises ValidationError keyed by the form's field names.
    """
    if config is not None and not isinstance(config, dict):
        raise ValidationError(
            {
                "config": ValidationError(
                    _("The configuration must be a JSON object."), code="invalid"
                )
            }
        )
    if task_cls.config_form is EmptyConfigForm:
        # No fields, no clean(): every object cleans to {}. Asked before every run of such a
        # task type; building the form (and its translated label suffix) was a tenth of a
        # small body's cost in its worker.
        return {}
    form = task_cls.config_form(data=dict(config or {}))
    if not form.is_valid():
        errors = {
            ("config" if field == "__all__" else field): messages
            for field, messages in form.errors.get_json_data().items()
        }
        # A form's own messages may repeat what was given (a choice, a URL, a project's
        # validator): cut it to the one quote bound, whoever called.
        given = long_inputs(config)
        raise ValidationError(
            {
                field: [
                    ValidationError(
                        bound_message(clip_inputs(m["message"], given)), code=m["code"] or None
                    )
                    for m in messages
                ]
                for field, messages in errors.items()
            }
        )
    return form.cleaned_data


def store_config(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> dict[str, Any]:
    """Validate and return the JSON to store; unknown keys are dropped."""
    return to_json(clean_config(task_cls, config))


def mask_secrets(task_cls: type[SchedulableTask] | None, config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` fit to show: secret fields masked."""
    secrets = set(getattr(task_cls, "secret_fields", ()) or ())
    return {
        k: (SECRET_MASK if k in secrets and v not in (None, "") else v)
        for k, v in (config or {}).items()
    }


def merge_secrets(
    task_cls: type[SchedulableTask] | None, old: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """Keep stored secrets when an edit sends them back masked or empty."""
    if not isinstance(new, dict):
        return new  # clean_config reports it
    merged = dict(new)
    for key in getattr(task_cls, "secret_fields", ()) or ():
        if merged.get(key) in (None, "", SECRET_MASK) and key in (old or {}):
            merged[key] = old[key]
    return merged


def masked_config(task: Any) -> dict[str, Any]:
    """The config of a stored task fit to show: its type's secret fields masked.

    When the task type is no longer registered nobody knows which keys are
    secret, so every value is masked.
    """
    from scheduler_app.exceptions import NotRegistered
    from scheduler_app.registry import registry

    config = task.config if isinstance(task.config, dict) else {}
    try:
        task_cls = registry.get_task_type(task.module_id, task.task_type)
    except NotRegistered:
        return dict.fromkeys(config, SECRET_MASK)
    return mask_secrets(task_cls, config)

"""A task type's config form described as JSON Schema, so a front-end can render it.

Field names, types, bounds, required fields, labels (``title``), help texts
(``description``), initial values (``default``) and choices. The choices of a
ModelChoiceField are those the form offers (its queryset), as ``oneOf``
entries ``{"const": pk, "title": label}``; at most :data:`MAX_CHOICES`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from django import forms

from scheduler_app import task_configs
from scheduler_app.providers import SchedulableTask

#: Choices listed per field; a longer list is cut and marked ``x-choices-truncated``.
MAX_CHOICES = 500

_FORMATS: tuple[tuple[type[forms.Field], dict[str, Any]], ...] = (
    (forms.EmailField, {"type": "string", "format": "email"}),
    (forms.URLField, {"type": "string", "format": "uri"}),
    (forms.UUIDField, {"type": "string", "format": "uuid"}),
    (forms.SplitDateTimeField, {"type": "string", "format": "date-time"}),
    (forms.DateTimeField, {"type": "string", "format": "date-time"}),
    (forms.DateField, {"type": "string", "format": "date"}),
    (forms.TimeField, {"type": "string", "format": "time"}),
    (forms.DurationField, {"type": "string", "format": "duration"}),
    (forms.BooleanField, {"type": "boolean"}),
    # FloatField and DecimalField subclass IntegerField: the order matters.
    (forms.DecimalField, {"type": "number"}),
    (forms.FloatField, {"type": "number"}),
    (forms.IntegerField, {"type": "integer"}),
    (forms.JSONField, {}),
)


def _json_safe(value: Any) -> Any:
    value = task_configs.to_json(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _choices(field: forms.ChoiceField) -> tuple[list[dict[str, Any]], bool]:
    found: list[dict[str, Any]] = []
    choices: Any = field.choices
    for value, label in choices:
        if isinstance(label, (list, tuple)):  # an optgroup: (group label, [(value, label), ...])
            pairs = list(label)
        else:
            pairs = [(value, label)]
        for inner_value, inner_label in pairs:
            raw = getattr(inner_value, "value", inner_value)  # ModelChoiceIteratorValue
            if raw in ("", None):
                continue  # the empty "---------" choice: not a value
            if len(found) >= MAX_CHOICES:
                return found, True
            found.append({"const": _json_safe(raw), "title": str(inner_label)})
    return found, False


def field_schema(field: forms.Field) -> dict[str, Any]:
    """One form field as a JSON Schema property."""
    schema: dict[str, Any] = {"type": "string"}
    for kind, base in _FORMATS:
        if isinstance(field, kind):
            schema = dict(base)
            break
    if isinstance(field, forms.ChoiceField):
        choices, truncated = _choices(field)
        item: dict[str, Any] = {"oneOf": choices} if choices else {}
        if isinstance(field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)):
            schema = {"type": "array", "items": item, "uniqueItems": True}
        else:
            schema = item
        if truncated:
            schema["x-choices-truncated"] = True
    for attr, key in (("min_value", "minimum"), ("max_value", "maximum")):
        bound = getattr(field, attr, None)
        if isinstance(bound, (int, float, decimal.Decimal)) and not callable(bound):
            schema[key] = float(bound) if isinstance(bound, decimal.Decimal) else bound
    if schema.get("type") == "string":
        for attr, key in (("max_length", "maxLength"), ("min_length", "minLength")):
            if getattr(field, attr, None):
                schema[key] = getattr(field, attr)
        if isinstance(field.widget, forms.Textarea):
            schema["x-widget"] = "textarea"
        elif isinstance(field.widget, forms.PasswordInput):
            schema["format"] = "password"
    if field.label:
        schema["title"] = str(field.label)
    if field.help_text:
        schema["description"] = str(field.help_text)
    initial = field.initial() if callable(field.initial) else field.initial
    if initial not in (None, ""):
        if isinstance(initial, (dt.date, dt.time, dt.datetime, dt.timedelta)):
            initial = str(initial)
        safe = _json_safe(initial)
        if safe is not None:
            schema["default"] = safe
    return schema


def config_schema(task_cls: type[SchedulableTask]) -> dict[str, Any]:
    """The JSON Schema of ``task_cls.config_form``; secret fields are marked ``writeOnly``."""
    form = task_cls.config_form()
    properties: dict[str, Any] = {}
    required = []
    secrets = set(task_cls.secret_fields or ())
    for name, field in form.fields.items():
        prop = field_schema(field)
        if name in secrets:
            prop["writeOnly"] = True
        properties[name] = prop
        if field.required:
            required.append(name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema

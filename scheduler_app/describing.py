"""Configuration and results as people read them: the config form's labels, choice labels, the
chosen objects' names, lists as lists (not ``report 3`` or ``['in_app']``).

``SchedulableTask.describe_config`` and ``describe_result`` call these by default; a task
type overrides them to say more.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _

#: A value as shown: one line, or a list of lines.
Shown = str | list[str]
#: (label, value) rows, in the order the config form has its fields.
Described = list[tuple[str, Shown]]

EMPTY = "—"
#: Items of one list shown, at most; the rest are counted.
LIST_LIMIT = 50


def label_of(key: str, field: forms.Field | None = None) -> str:
    """The field's label, else the key made readable ("minutes_before" -> "Minutes before")."""
    if field is not None and field.label:
        return str(field.label)
    return str(key).replace("_", " ").strip().capitalize() or str(key)


def _choices(field: forms.Field) -> dict[str, str]:
    found: dict[str, str] = {}
    for value, label in getattr(field, "choices", ()) or ():
        if isinstance(label, (list, tuple)):  # an optgroup
            found.update({str(v): str(text) for v, text in label})
        else:
            found[str(value)] = str(label)
    return found


def _objects(field: forms.ModelChoiceField, pks: list[Any]) -> list[str]:
    """The chosen objects' names in the stored order; a deleted one says so (one query)."""
    wanted = [pk for pk in pks if pk not in (None, "")]
    queryset = field.queryset
    try:
        found = (
            {str(obj.pk): str(obj) for obj in queryset.filter(pk__in=wanted)}
            if queryset is not None
            else {}
        )
    except (ValueError, TypeError):
        found = {}
    return [found.get(str(pk)) or _("#%(pk)s (no longer exists)") % {"pk": pk} for pk in wanted]


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def describe_value(value: Any, field: forms.Field | None = None) -> Shown:
    """One value as the field would show it; lists become lists."""
    many = isinstance(value, (list, tuple, set))
    items = list(value) if many else [value]
    if many and not items:
        return EMPTY
    if isinstance(field, forms.ModelChoiceField):
        names = _objects(field, items)
        shown: Shown = names if many else (names[0] if names else EMPTY)
    elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        labels = _choices(field)
        named = [labels.get(str(item), _scalar(item)) for item in items]
        shown = named if many else named[0]
    elif isinstance(field, forms.BooleanField) or isinstance(value, bool):
        shown = _scalar(bool(value)) if not many else [_scalar(item) for item in items]
    else:
        shown = [_scalar(item) for item in items] if many else _scalar(value)
    if isinstance(shown, list) and len(shown) > LIST_LIMIT:
        more = len(shown) - LIST_LIMIT
        shown = [*shown[:LIST_LIMIT], _("… and %(count)d more") % {"count": more}]
    return shown


def _fields(form_class: type[forms.Form]) -> dict[str, forms.Field]:
    # An instance, not base_fields: a form may set its choices or querysets in __init__.
    try:
        return dict(form_class().fields)
    except Exception:  # noqa: BLE001 - a form that cannot be built still shows its keys
        return dict(form_class.base_fields)


def describe_config(form_class: type[forms.Form], config: dict[str, Any]) -> Described:
    """The config (secrets already masked) as the form shows it: its fields first, in order."""
    fields = _fields(form_class)
    config = config if isinstance(config, dict) else {}
    keys = [key for key in fields if key in config] + [key for key in config if key not in fields]
    return [
        (label_of(key, fields.get(key)), describe_value(config[key], fields.get(key)))
        for key in keys
    ]


def describe_data(form_class: type[forms.Form], data: Any) -> Described:
    """A run's result data: keys named like a config field are shown as that field would be."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [(_("Result"), describe_value(data))]
    fields = _fields(form_class)
    return [
        (label_of(key, fields.get(key)), describe_value(value, fields.get(key)))
        for key, value in data.items()
    ]

"""Input checks shared by the services and the forms: task types, schedules, options.

Each turns bad input into a ``ValidationError`` keyed by the field at fault.
Pure: nothing here reads or writes tasks.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _

from scheduler_app import schedules
from scheduler_app.exceptions import NotRegistered
from scheduler_app.models.run_options import RunOption
from scheduler_app.providers import SchedulableTask
from scheduler_app.quoting import QUOTE_LIMIT as QUOTE_LIMIT  # re-exported
from scheduler_app.quoting import quote_input
from scheduler_app.registry import registry

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
#: Tags on one task.
MAX_TAGS = 20
_NUMBER_TEXT = re.compile(r"^\s*[+-]?\d{1,18}\s*$")


#: ``value`` as text fit to quote in a message (the one helper of scheduler_app.quoting).
quote = quote_input


def whole_number(value: Any) -> int | None:
    """``value`` as an int if it is one (or an integral float, or digits as text); else None.

    Booleans, fractions, NaN, infinities and other types are not whole numbers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _NUMBER_TEXT.match(value):
        return int(value)
    return None


def resolve_task_type(module: str, task_type: str) -> type[SchedulableTask]:
    """The task type class, or a ValidationError naming the known ones."""
    try:
        provider = registry.get(module)
    except NotRegistered:
        raise ValidationError(
            {
                "module": _("Unknown module “%(module)s”. Known modules: %(known)s.")
                % {"module": quote(module), "known": registry.known_modules_text()}
            },
            code="unknown_module",
        ) from None
    if task_type not in provider.task_types:
        raise ValidationError(
            {
                "task_type": _("Module “%(module)s” has no task type “%(type)s”. Known: %(known)s.")
                % {
                    "module": quote(module),
                    "type": quote(task_type),
                    "known": ", ".join(sorted(provider.task_types)) or "-",
                }
            },
            code="unknown_task_type",
        )
    return provider.task_types[task_type]


def build_schedule(
    schedule_type: str,
    *,
    cron: str | None = None,
    run_at: dt.datetime | None = None,
    interval: Any = None,
    event: str | None = None,
    timezone: str | None = None,
    now: dt.datetime | None = None,
    check_past: bool = True,
) -> schedules.Schedule:
    """A validated Schedule from the services' keyword arguments (``schedules.ARGUMENTS``)."""
    raw = schedules.Schedule.from_arguments(
        schedule_type, cron=cron, run_at=run_at, interval=interval, event=event, timezone=timezone
    )
    return check_schedule(raw, now=now, check_past=check_past)


def check_schedule(
    schedule: schedules.Schedule, *, now: dt.datetime | None = None, check_past: bool = True
) -> schedules.Schedule:
    """``schedule`` (as an edge read it from its inputs) validated and normalized.

    Raises ValidationError keyed by the services' argument names
    (``schedules.ARGUMENTS``); ``schedules.renamed`` maps them to an edge's fields.
    """
    return schedule.validate(now or dj_timezone.now(), check_past=check_past)


def clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Tags as a list of unique lowercase slugs; a string is split on commas and spaces."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\s]+", tags) if t]
    cleaned: list[str] = []
    for tag in tags:
        value = str(tag).strip().lower()
        if not TAG_RE.fullmatch(value):
            raise ValidationError(
                {
                    "tags": _(
                        "“%(tag)s” is not a valid tag: use lowercase letters, digits, - and _."
                    )
                    % {"tag": quote(str(tag))}
                },
                code="invalid_tag",
            )
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError(
            {"tags": _("Give at most %(max)d tags.") % {"max": MAX_TAGS}}, code="max_tags"
        )
    return cleaned


def check_range(field: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int within ``low..high``, or a ValidationError on ``field``."""
    number = whole_number(value)
    if number is None:
        raise ValidationError({field: _("Enter a whole number.")}, code="invalid")
    if not low <= number <= high:
        raise ValidationError(
            {field: _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}},
            code="out_of_range",
        )
    return number


def check_option(option: RunOption, value: Any) -> int:
    """``value`` as an int within the number option's declared bounds, or a ValidationError."""
    assert option.lowest is not None and option.highest is not None
    return check_range(option.name, value, option.lowest, option.highest)


def check_choice(field: str, value: str, choices: list[str]) -> str:
    """``value`` if it is one of ``choices``, or a ValidationError on ``field``."""
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(
            {field: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}},
            code="invalid_choice",
        )
    return value

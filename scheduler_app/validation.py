"""Input checks shared by the services and the forms: task types, schedules, options.

Each turns bad input into a ``ValidationError`` keyed by the field at fault.
Pure: nothing here reads or writes tasks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import schedules
from scheduler_app.exceptions import NotRegistered
from scheduler_app.providers import SchedulableTask
from scheduler_app.registry import registry

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def resolve_task_type(module: str, task_type: str) -> type[SchedulableTask]:
    """The task type class, or a ValidationError naming the known ones."""
    try:
        provider = registry.get(module)
    except NotRegistered:
        raise ValidationError(
            {
                "module": _("Unknown module “%(module)s”. Known modules: %(known)s.")
                % {"module": schedules.clip(module), "known": registry.known_modules_text()}
            },
            code="unknown_module",
        ) from None
    if task_type not in provider.task_types:
        raise ValidationError(
            {
                "task_type": _("Module “%(module)s” has no task type “%(type)s”. Known: %(known)s.")
                % {
                    "module": module,
                    "type": schedules.clip(task_type),
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
    timezone_name: str | None = None,
    now: dt.datetime | None = None,
    check_past: bool = True,
) -> schedules.Schedule:
    """A validated Schedule from the public keyword arguments."""
    every, unit = (None, "")
    if schedule_type == schedules.RECURRING:
        if interval is None:
            raise ValidationError(
                {"interval": _("Give the interval, e.g. “15 minutes”.")}, code="required"
            )
        every, unit = schedules.parse_interval(interval)
    raw = schedules.Schedule(
        type=schedule_type,
        cron=cron or "",
        run_at=run_at,
        interval_every=every,
        interval_unit=unit,
        event=event or "",
        timezone=(timezone_name or "UTC"),
    )
    return raw.validate(now or timezone.now(), check_past=check_past)


def clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Tags as a list of unique lowercase slugs; a string is split on commas and spaces."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\s]+", tags) if t]
    cleaned = []
    for tag in tags:
        value = str(tag).strip().lower()
        if not TAG_RE.match(value):
            raise ValidationError(
                {
                    "tags": _(
                        "“%(tag)s” is not a valid tag: use lowercase letters, digits, - and _."
                    )
                    % {"tag": schedules.clip(tag)}
                },
                code="invalid_tag",
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def check_range(field: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int within ``low..high``, or a ValidationError on ``field``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}, code="invalid") from None
    if not low <= number <= high:
        raise ValidationError(
            {field: _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}},
            code="out_of_range",
        )
    return number


def check_choice(field: str, value: str, choices: list[str]) -> str:
    """``value`` if it is one of ``choices``, or a ValidationError on ``field``."""
    if value not in choices:
        raise ValidationError(
            {field: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}},
            code="invalid_choice",
        )
    return value

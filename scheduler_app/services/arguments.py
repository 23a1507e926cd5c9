"""Type and size checks of every argument of ``schedule`` and ``update``, before any other use.

Python accepts anything and SQLite ignores column lengths, so the services
check each argument here: the right type, at most as long as its column
(``ScheduledTask._meta``), no NUL or unencodable characters (PostgreSQL
refuses them), numbers and dates within what the schedule maths can carry.
Every failure is a ``ValidationError`` on the argument's name; all bad
arguments are reported at once. Messages quote at most ``QUOTE_LIMIT``
characters of what was given (and ``steps.bounded_errors`` cuts what
other layers wrote).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from scheduler_app import conf, schedules
from scheduler_app.models import BlackoutCalendar, ScheduledTask, ScheduleType
from scheduler_app.services.validation import MAX_TAGS, quote, whole_number

#: Blackout calendars or chained tasks named in one call.
MAX_REFERENCES = 100
#: Nesting of lists and objects in a config.
MAX_CONFIG_DEPTH = 20
#: Characters of a config key.
MAX_CONFIG_KEY = 100
#: Characters of a condition note (it is not stored).
MAX_CONDITION = 200
#: Characters of a run time given as text.
MAX_DATETIME_TEXT = 64
#: Run times outside these years are refused (the one range of the schedule maths).
EARLIEST_RUN_AT, LATEST_RUN_AT = schedules.EARLIEST_RUN_AT, schedules.LATEST_RUN_AT
#: Runs one preview (``next_runs``) lists at most.
MAX_PREVIEW_RUNS = 500
#: The largest primary key a database column holds (bigint).
MAX_ID = 2**63 - 1


def column_length(name: str) -> int:
    """The column length of a ScheduledTask field (the bound SQLite does not enforce)."""
    field = ScheduledTask._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length  # noqa: S101
    return field.max_length


def _error(message: str, code: str = "invalid") -> ValidationError:
    return ValidationError(message, code=code)


# --- one check per kind of argument; each returns an error or None ----------------------


def _text(max_length: int, *, required: bool = False) -> Callable[[Any], ValidationError | None]:
    def check(value: Any) -> ValidationError | None:
        if value is None:
            return _error(_("This field is required."), "required") if required else None
        if not isinstance(value, str):
            return _error(_("Enter text, not %(type)s.") % {"type": type(value).__name__})
        if len(value) > max_length:
            return _error(
                _("Keep this to %(max)d characters (it has %(length)d).")
                % {"max": max_length, "length": len(value)},
                "max_length",
            )
        return _printable(value)

    return check


def _printable(value: str) -> ValidationError | None:
    if "\x00" in value:
        return _error(_("Remove the NUL character."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _error(_("Remove the characters that are not valid Unicode text."))
    return None


def _boolean(value: Any) -> ValidationError | None:
    if isinstance(value, bool):
        return None
    return _error(_("Enter true or false, not %(value)s.") % {"value": quote(value)})


def _number(*, optional: bool) -> Callable[[Any], ValidationError | None]:
    def check(value: Any) -> ValidationError | None:
        if value is None and optional:
            return None
        if whole_number(value) is None:
            return _error(_("Enter a whole number."))
        return None  # the range is checked where the value is used

    return check


def _choice(choices: Iterable[str]) -> Callable[[Any], ValidationError | None]:
    known = list(choices)

    def check(value: Any) -> ValidationError | None:
        if isinstance(value, str) and value in known:
            return None
        return _error(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(known)}, "invalid_choice"
        )

    return check


def _moment(value: Any) -> ValidationError | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if len(value) > MAX_DATETIME_TEXT:
            return _error(_("Enter a date and time, e.g. 2030-01-31 06:00."))
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            return _error(_("Enter a valid date and time, e.g. 2030-01-31 06:00."))
        value = parsed
    if not isinstance(value, dt.datetime):
        return _error(_("Enter a date and time, not %(type)s.") % {"type": type(value).__name__})
    if not schedules.run_at_in_range(value):
        return _error(schedules.run_at_range_message(), "out_of_range")
    return None


def _interval(value: Any) -> ValidationError | None:
    """The shapes ``schedules.parse_interval`` reads, with their parts bounded."""
    if value is None or isinstance(value, dt.timedelta):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, str):
        return None if len(value) <= 40 else _interval_shape()
    if isinstance(value, (tuple, list)) and len(value) == 2:
        every, unit = value
        every_ok = whole_number(every) is not None
        unit_ok = isinstance(unit, str) and len(unit) <= 16
        return None if every_ok and unit_ok else _interval_shape()
    return _interval_shape()


def _interval_shape() -> ValidationError:
    return _error(_("Give the interval as a positive number and a unit, e.g. “15 minutes”."))


def _tags(value: Any) -> ValidationError | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _text(MAX_TAGS * 52)(value)
    if not isinstance(value, (list, tuple, set, frozenset)):
        return _error(_("Give the tags as a list of words, or one text separated by commas."))
    if len(value) > MAX_TAGS:
        return _error(_("Give at most %(max)d tags.") % {"max": MAX_TAGS}, "max_tags")
    if not all(isinstance(tag, str) for tag in value):
        return _error(_("Each tag must be text."))
    return None


def _owner(value: Any) -> ValidationError | None:
    if value is None:
        return None
    user_model = get_user_model()
    if not isinstance(value, user_model) or value.pk is None:
        return _error(_("Give a saved user, not %(value)s.") % {"value": quote(value)})
    if not user_model._default_manager.filter(pk=value.pk).exists():
        return _error(_("This user no longer exists."))
    return None


def _references(model: type[models.Model], *, names: int | None) -> Callable[[Any], Any]:
    """Objects of ``model``, their ids, or (``names``: up to that long) their names."""

    def check(value: Any) -> ValidationError | None:
        if value is None:
            return None
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
            return _error(_("Give a list."))
        items = list(itertools.islice(value, MAX_REFERENCES + 1))
        if len(items) > MAX_REFERENCES:
            return _error(_("Give at most %(max)d.") % {"max": MAX_REFERENCES}, "max_items")
        for item in items:
            if isinstance(item, model):
                if item.pk is None:
                    return _error(_("“%(name)s” is not saved.") % {"name": quote(str(item))})
            elif isinstance(item, int) and not isinstance(item, bool):
                if not 1 <= item <= MAX_ID:
                    return _error(_("%(value)s is not an id.") % {"value": quote(item)})
            elif isinstance(item, str) and names is None:
                if whole_number(item) is None or not 1 <= int(item) <= MAX_ID:
                    return _error(_("“%(value)s” is not an id.") % {"value": quote(item)})
            elif isinstance(item, str) and names is not None:
                error = _text(names)(item)
                if error is not None:
                    return error
            else:
                return _error(_("%(value)s is not an id.") % {"value": quote(item)})
        return None

    return check


def _config(value: Any) -> ValidationError | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _error(_("The configuration must be a JSON object."))
    return check_json(value)


def check_json(value: Any) -> ValidationError | None:
    """None if ``value`` is plain JSON within the depth and the size limit (MAX_CONFIG_SIZE).

    A config or an event payload: both are stored as JSON.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            return _error(
                _("Nest lists and objects at most %(max)d deep.") % {"max": MAX_CONFIG_DEPTH}
            )
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str) or len(key) > MAX_CONFIG_KEY:
                    return _error(
                        _("Keys must be text of at most %(max)d characters: %(key)s.")
                        % {"max": MAX_CONFIG_KEY, "key": quote(key)}
                    )
                stack.append((key, depth + 1))
                stack.append((inner, depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str):
            error = _printable(item)
            if error is not None:
                return error
        elif isinstance(item, float) and not math.isfinite(item):
            return _error(_("Numbers must be finite (not NaN or infinity)."))
        elif item is not None and not isinstance(item, (bool, int, float)):
            return _error(_("%(type)s is not a JSON value.") % {"type": type(item).__name__})
    limit = conf.get().MAX_CONFIG_SIZE
    size = len(json.dumps(value, allow_nan=False))
    if size > limit:
        return _error(
            _("The configuration is %(size)d characters of JSON; the limit is %(max)d.")
            % {"size": size, "max": limit},
            "max_length",
        )
    return None


def _count(value: Any) -> ValidationError | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PREVIEW_RUNS:
        return _error(
            _("Enter a number from 0 to %(max)d.") % {"max": MAX_PREVIEW_RUNS}, "out_of_range"
        )
    return None


def _aware_moment(value: Any) -> ValidationError | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return _error(_("Give an aware datetime."))
    if not schedules.run_at_in_range(value):
        # Runs are listed from here on: near year 9999 they would overflow.
        return _error(schedules.run_at_range_message(), "out_of_range")
    return None


def _payload(value: Any) -> ValidationError | None:
    """An event payload: None or an object that DjangoJSONEncoder turns into plain JSON."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return _error(_("The event payload must be a JSON object."))
    try:
        text = json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return _error(_("The event payload must be JSON: %(error)s") % {"error": quote(str(exc))})
    return check_json(json.loads(text))


#: The column of each schedule argument named differently (cron -> cron_expression).
SCHEDULE_COLUMN = schedules.renamed("argument", "column")

CHECKS: dict[str, Callable[[Any], ValidationError | None]] = {
    "module": _text(column_length("module_id"), required=True),
    "task_type": _text(column_length("task_type"), required=True),
    "config": _config,
    "schedule_type": _choice(ScheduleType.values),
    "cron": _text(column_length(SCHEDULE_COLUMN["cron"])),
    "run_at": _moment,
    "interval": _interval,
    "event": _text(column_length(SCHEDULE_COLUMN["event"])),
    "condition": _text(MAX_CONDITION),
    "timezone": _text(column_length("timezone")),
    "name": _text(column_length("name")),
    "priority": _number(optional=False),
    "max_retries": _number(optional=True),
    "timeout": _number(optional=True),
    "allow_overlap": _boolean,
    "enabled": _boolean,
    "is_system": _boolean,
    "tags": _tags,
    "misfire_policy": _text(column_length("misfire_policy")),
    "misfire_grace": _number(optional=True),
    "owner": _owner,
    "calendars": _references(BlackoutCalendar, names=120),
    "on_success": _references(ScheduledTask, names=None),
    # next_runs() and emit()
    "count": _count,
    "after": _aware_moment,
    "event_name": _text(column_length("event_name"), required=True),
    "payload": _payload,
}


def check_arguments(arguments: dict[str, Any]) -> None:
    """Raise one ValidationError naming every argument of the wrong type or size."""
    errors = {}
    for name, value in arguments.items():
        check = CHECKS.get(name)
        error = check(value) if check is not None else None
        if error is not None:
            errors[name] = error
    if errors:
        raise ValidationError(errors)

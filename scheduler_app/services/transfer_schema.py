"""The schedules export format: checking a document against a schema.

Nothing is looked up or saved before a document passes :func:`check`; every
problem is reported at once, each line naming the entry (its index and, when
it has them, its module, type and name) and the field::

    tasks[3] reports.send “Nightly”: interval: give [every, unit], e.g. [15, "minutes"].

Bounds: the number of entries (``SCHEDULER["IMPORT_MAX_ENTRIES"]``) and the length
of every field; the file itself is read by :mod:`.transfer_file` (its size and depth).

Example::

    data = transfer_file.read(path.read_bytes())
    warnings = transfer_schema.check(data)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _

from scheduler_app import bounds, conf
from scheduler_app.models import (
    EdgeCondition,
    IntervalUnit,
    MisfirePolicy,
    ScheduledTask,
    ScheduleType,
    run_options,
)
from scheduler_app.models.run_options import RunOption
from scheduler_app.quoting import quote_input

FORMAT = "scheduler_app.schedules"
VERSION = 1
#: Error lines reported at most; the rest are counted.
MAX_REPORTED_ERRORS = 50


class Invalid(Exception):
    """One field's problem, as the message shown after ``field:``."""


# --- field checkers -----------------------------------------------------------------------


def _text(max_length: int, *, blank: bool = True, null: bool = False) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value is None and null:
            return
        if not isinstance(value, str):
            raise Invalid(_("give text") + (_(" or null") if null else "") + ".")
        if not blank and not value.strip():
            raise Invalid(_("must not be empty."))
        if len(value) > max_length:
            raise Invalid(_("keep it under %(max)d characters.") % {"max": max_length})

    return check


def _choice(choices: list[str]) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value not in choices or not isinstance(value, str):
            raise Invalid(_("choose one of: %(choices)s.") % {"choices": ", ".join(choices)})

    return check


def _whole(low: int, high: int, *, null: bool = False) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value is None and null:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(_("give a whole number") + (_(" or null") if null else "") + ".")
        if not low <= value <= high:
            raise Invalid(_("give a number from %(low)d to %(high)d.") % {"low": low, "high": high})

    return check


def _option(option: RunOption) -> Callable[[Any], None]:
    """The check of a number option, within its declared bounds."""
    assert option.lowest is not None and option.highest is not None
    return _whole(option.lowest, option.highest, null=option.nullable)


def _flag(value: Any) -> None:
    if not isinstance(value, bool):
        raise Invalid(_("give true or false."))


def _list_of_text(max_items: int, max_length: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid(_("give a list of text."))
        if len(value) > max_items:
            raise Invalid(_("give at most %(max)d items.") % {"max": max_items})
        if any(len(v) > max_length for v in value):
            raise Invalid(_("keep each item under %(max)d characters.") % {"max": max_length})

    return check


def _run_at(value: Any) -> None:
    if value is None:
        return
    try:
        parsed = parse_datetime(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:  # well formed, impossible (30 February)
        parsed = None
    if parsed is None:
        raise Invalid(_("give an ISO date and time, e.g. 2026-12-24T18:00:00+01:00, or null."))
    if not bounds.date_in_range(parsed):
        raise Invalid(
            _("give a date from %(earliest)s to %(latest)s.")
            % {"earliest": bounds.EARLIEST_DATE, "latest": bounds.LATEST_DATE}
        )


def _interval(value: Any) -> None:
    if value is None:
        return
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], str)
    ):
        raise Invalid(_('give [every, unit], e.g. [15, "minutes"], or null.'))
    _whole(1, 10_000_000)(value[0])
    _choice(list(IntervalUnit.values))(value[1])


def _config(value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        raise Invalid(_("give an object of the task type's settings."))


def _date(value: Any) -> None:
    try:
        parsed = parse_date(value) if isinstance(value, str) and len(value) <= 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid(_("give a date, e.g. 2026-12-24."))


def _time(value: Any) -> None:
    if value is None:
        return
    try:
        parsed = parse_time(value) if isinstance(value, str) and len(value) <= 15 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid(_("give a time, e.g. 18:00, or null."))


def _periods(value: Any) -> None:
    limit = conf.get().CALENDAR_MAX_PERIODS
    if not isinstance(value, list):
        raise Invalid(_("give a list of periods."))
    if len(value) > limit:
        raise Invalid(_("a calendar holds at most %(max)d periods.") % {"max": limit})
    for number, period in enumerate(value):
        if not isinstance(period, dict):
            raise Invalid(_("period %(n)d is not an object.") % {"n": number})
        problems = _problems(period, PERIOD_SCHEMA, strict=True)
        if problems:
            raise Invalid(_("period %(n)d: %(problem)s") % {"n": number, "problem": problems[0]})


def _edges(value: Any) -> None:
    if not isinstance(value, list):
        raise Invalid(_("give a list of edges."))
    if len(value) > MAX_EDGES:
        raise Invalid(_("give at most %(max)d edges.") % {"max": MAX_EDGES})
    for number, edge in enumerate(value):
        if not isinstance(edge, dict):
            raise Invalid(_("edge %(n)d is not an object.") % {"n": number})
        problems = _problems(edge, EDGE_SCHEMA, strict=True)
        if problems:
            raise Invalid(_("edge %(n)d: %(problem)s") % {"n": number, "problem": problems[0]})


def _column(name: str) -> int:
    """The stored column's length: what an export writes, an import must take back."""
    return int(getattr(ScheduledTask._meta.get_field(name), "max_length", 0) or 0)


#: Task entry keys: (required, checker). The same keys as ``transfer.task_entry`` writes.
TASK_SCHEMA: dict[str, tuple[bool, Callable[[Any], None]]] = {
    "module": (True, _text(_column("module_id"), blank=False)),
    "task_type": (True, _text(_column("task_type"), blank=False)),
    "name": (True, _text(_column("name"), blank=False)),
    "config": (False, _config),
    "schedule_type": (False, _choice(list(ScheduleType.values))),
    "cron": (False, _text(_column("cron_expression"), null=True)),
    "run_at": (False, _run_at),
    "interval": (False, _interval),
    "event": (False, _text(_column("event_name"), null=True)),
    "timezone": (False, _text(_column("timezone"), null=True)),
    "priority": (False, _option(run_options.PRIORITY)),
    "max_retries": (False, _option(run_options.MAX_RETRIES)),
    "timeout": (False, _option(run_options.TIMEOUT)),
    "allow_overlap": (False, _flag),
    "misfire_policy": (False, _choice(list(MisfirePolicy.values))),
    "misfire_grace": (False, _option(run_options.MISFIRE_GRACE)),
    "tags": (False, _list_of_text(50, 50)),
    "enabled": (False, _flag),
    "paused": (False, _flag),
    "calendars": (False, _list_of_text(100, 120)),
    "owner": (False, _text(150, null=True)),
    "edges": (False, _edges),
}
CALENDAR_SCHEMA: dict[str, tuple[bool, Callable[[Any], None]]] = {
    "name": (True, _text(120, blank=False)),
    "description": (False, _text(2000, null=True)),
    "timezone": (False, _text(64, null=True)),
    "periods": (False, _periods),
}
PERIOD_SCHEMA: dict[str, tuple[bool, Callable[[Any], None]]] = {
    "label": (False, _text(200, null=True)),
    "start_date": (True, _date),
    "end_date": (True, _date),
    "start_time": (False, _time),
    "end_time": (False, _time),
}
#: One edge of a task entry: the task it starts (matched like entries) and when.
EDGE_SCHEMA: dict[str, tuple[bool, Callable[[Any], None]]] = {
    "module": (True, _text(_column("module_id"), blank=False)),
    "task_type": (True, _text(_column("task_type"), blank=False)),
    "name": (True, _text(_column("name"), blank=False)),
    "when": (False, _choice(list(EdgeCondition.values))),
}
#: Edges one task entry may list.
MAX_EDGES = 100
DOCUMENT_KEYS = frozenset({"format", "version", "exported_at", "calendars", "tasks"})


def _key(name: Any) -> str:
    return quote_input(str(name))


def _problems(
    entry: dict[str, Any], schema: dict[str, tuple[bool, Callable[[Any], None]]], *, strict: bool
) -> list[str]:
    problems = []
    unknown = sorted(_key(k) for k in entry if k not in schema)
    if unknown and strict:
        problems.append(_("unknown keys %(keys)s.") % {"keys": ", ".join(unknown)})
    for name, (required, check) in schema.items():
        if name not in entry:
            if required:
                problems.append(_("%(field)s: this field is required.") % {"field": name})
            continue
        try:
            check(entry[name])
        except Invalid as exc:
            problems.append(f"{name}: {exc}")
    return problems


def entry_label(entry: Any) -> str:
    """``module.task_type “name”`` of an entry, with what it has of them, bounded."""
    if not isinstance(entry, dict):
        return ""
    parts = [entry.get(k) for k in ("module", "task_type", "name")]
    shown = [_key(p) if isinstance(p, str) else "?" for p in parts]
    return f"{shown[0]}.{shown[1]} “{shown[2]}”"


# --- the document -------------------------------------------------------------------------


def _check_header(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(
            _("This is not a schedules export (expected format “%(format)s”).")
            % {"format": FORMAT},
            code="format",
        )
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):
        raise ValidationError(
            _(
                "Schedules export version %(version)s is not supported "
                "(this version reads %(supported)s)."
            )
            % {"version": _key(repr(data.get("version"))), "supported": VERSION},
            code="version",
        )
    if not isinstance(data.get("tasks"), list) or not isinstance(data.get("calendars", []), list):
        raise ValidationError(
            _("The export needs a list of tasks (and, if any, a list of calendars)."),
            code="format",
        )
    entries = len(data["tasks"]) + len(data.get("calendars", []))
    limit = conf.get().IMPORT_MAX_ENTRIES
    if entries > limit:
        raise ValidationError(
            _("The export has %(count)d entries; an import takes at most %(limit)d.")
            % {"count": entries, "limit": limit},
            code="too_many",
        )


def check(data: Any, *, allow_unknown_keys: bool = False) -> list[str]:
    """Check a parsed document; returns warnings (ignored unknown keys), raises ValidationError.

    Unknown keys are refused unless ``allow_unknown_keys``: a key this version
    does not know (``is_system``, ``status``) would otherwise be dropped
    without a word.
    """
    _check_header(data)
    errors: list[str] = []
    warnings: list[str] = []
    unknown_top = sorted(_key(k) for k in data if k not in DOCUMENT_KEYS)
    if unknown_top:
        line = _("the document: unknown keys %(keys)s.") % {"keys": ", ".join(unknown_top)}
        (warnings if allow_unknown_keys else errors).append(line)
    sections = (
        ("calendars", data.get("calendars", []), CALENDAR_SCHEMA),
        ("tasks", data["tasks"], TASK_SCHEMA),
    )
    for section, entries, schema in sections:
        for index, entry in enumerate(entries):
            where = f"{section}[{index}]"
            if section == "tasks" and isinstance(entry, dict):
                where += " " + entry_label(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
                where += f" “{_key(entry['name'])}”"
            if not isinstance(entry, dict):
                errors.append(f"{where}: " + _("not an object."))
                continue
            for problem in _problems(entry, schema, strict=not allow_unknown_keys):
                errors.append(f"{where}: {problem}")
            unknown = sorted(_key(k) for k in entry if k not in schema)
            if unknown and allow_unknown_keys:
                warnings.append(
                    f"{where}: "
                    + _("ignored unknown keys %(keys)s.") % {"keys": ", ".join(unknown)}
                )
    if errors:
        raise ValidationError(summarise(errors), code="invalid")
    return warnings


def summarise(lines: list[str]) -> list[str]:
    """At most MAX_REPORTED_ERRORS lines, the rest counted."""
    if len(lines) <= MAX_REPORTED_ERRORS:
        return lines
    rest = len(lines) - MAX_REPORTED_ERRORS
    return [
        *lines[:MAX_REPORTED_ERRORS],
        _("… and %(count)d more problems.") % {"count": rest},
    ]


def parsed_run_at(value: Any) -> dt.datetime | None:
    """The run time of a checked entry."""
    return parse_datetime(value) if isinstance(value, str) else None

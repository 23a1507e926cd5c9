"""Cron expressions read as Vixie/Debian cron reads them, compiled to sets of allowed values.

* ``a-a`` is the single value a (also in lists and with a step: ``3-3/2`` is 3);
  ``a-b`` with a > b is refused, not wrapped around.
* ``*/n`` and ``a-b/n`` step through the range; ``a/n`` steps from a to the
  field's end (what croniter and cronsim do; Vixie cron refuses it).
* Day of month and day of week: when both are restricted a day matches
  either; when either field starts with ``*`` (``*/2`` too) both must match.
* 0 and 7 are Sunday; three-letter names (jan, mon) in any case.
* Extensions of other crons (L, W, #, H, ?) are refused with a message
  rather than read in some way nobody documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler_app.schedules.wallclock import clip, field_error

CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


# Longest expression accepted: a list of every other minute fits in ~90 characters.
MAX_CRON_LENGTH = 200


MONTH_NAMES = {
    name: number
    for number, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)
}
WEEKDAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


@dataclass(frozen=True)
class _Field:
    label: object  # lazy text: read per message, so the active language applies
    low: int
    high: int  # the weekday field runs to 7, another name for Sunday
    names: dict[str, int]
    hint: object


_FIELDS = (
    _Field(gettext_lazy("minute"), 0, 59, {}, "0-59"),
    _Field(gettext_lazy("hour"), 0, 23, {}, "0-23"),
    _Field(gettext_lazy("day of the month"), 1, 31, {}, "1-31"),
    _Field(gettext_lazy("month"), 1, 12, MONTH_NAMES, gettext_lazy("1-12 or jan-dec")),
    _Field(
        gettext_lazy("day of the week"),
        0,
        7,
        WEEKDAY_NAMES,
        gettext_lazy("0-7 (0 and 7 are Sunday) or sun-sat"),
    ),
)


# What other crons accept and standard cron does not: L (last), W (weekday),
# # (nth weekday), ? (no value), H (hashed), R (random).
_EXTENSION = re.compile(r"[#?]|^\d*L\d*W?$|^L|W$|^[HR]($|[(/])", re.IGNORECASE)


@dataclass(frozen=True)
class CronSpec:
    """A parsed cron expression: the values each field allows, and how its days combine."""

    text: str  # normalized: single spaces, macros expanded
    fields: tuple[str, ...]  # the five field texts
    minutes: tuple[int, ...]  # sorted
    hours: tuple[int, ...]  # sorted
    days: tuple[int, ...]  # sorted days of the month
    months: tuple[int, ...]  # sorted
    weekdays: frozenset[int]  # 0-6, Sunday is 0
    days_and: bool  # either day field starts with "*": a day must match both
    fixed_time: bool  # no "*" in the minute and hour fields: the wall-clock DST rule applies

    def matches_day(self, day: int, weekday: int) -> bool:
        """Whether the day of the month ``day`` (weekday 0 = Sunday) is a day the job runs."""
        if self.days_and:
            return day in self.days and weekday in self.weekdays
        return day in self.days or weekday in self.weekdays


def _error(message: str) -> ValidationError:
    return field_error("cron", message, "invalid_cron")


def normalize_text(expression: str | None) -> str:
    """Single-spaced text, bounded, macros expanded; the fields are not checked yet."""
    raw = "" if expression is None else str(expression)
    if len(raw) > MAX_CRON_LENGTH * 4:  # do not even split a pasted megabyte
        raw = raw[: MAX_CRON_LENGTH * 4]
    text = " ".join(raw.split())
    if not text:
        raise field_error("cron", _("Enter a cron expression, e.g. “0 6 * * 1-5”."), "required")
    if len(text) > MAX_CRON_LENGTH:
        raise _error(
            _("Keep the cron expression to %(max)d characters.") % {"max": MAX_CRON_LENGTH}
        )
    if text.startswith("@"):
        macro = CRON_MACROS.get(text.lower())
        if macro is None:
            raise _error(
                _("Unknown cron macro “%(macro)s”. Use one of: %(known)s.")
                % {"macro": clip(text), "known": ", ".join(CRON_MACROS)}
            )
        return macro
    return text


@lru_cache(maxsize=4096)
def compile_cron(expression: str | None) -> CronSpec:
    """Parse and check ``expression``; ValidationError on the ``cron`` field if it is not cron.

    Cached: the engine asks for the same few expressions on every pass.
    """
    text = normalize_text(expression)
    parts = text.split(" ")
    if len(parts) != 5:
        raise _error(
            _(
                "A cron expression has 5 fields (minute hour day month weekday); "
                "“%(expr)s” has %(count)d."
            )
            % {"expr": clip(text), "count": len(parts)}
        )
    values = [_parse_field(part, field) for part, field in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = values
    days_and = parts[2].startswith("*") or parts[4].startswith("*")
    if days_and and not any(day <= _LONGEST_MONTH[month] for month in months for day in days[:1]):
        raise _error(
            _(
                "“%(expr)s” never matches a date: no month it names has day %(day)d "
                "(e.g. 30 February)."
            )
            % {"expr": clip(text), "day": days[0]}
        )
    return CronSpec(
        text=text,
        fields=tuple(parts),
        minutes=tuple(minutes),
        hours=tuple(hours),
        days=tuple(days),
        months=tuple(months),
        weekdays=frozenset(day % 7 for day in weekdays),
        days_and=days_and,
        fixed_time="*" not in parts[0] and "*" not in parts[1],
    )


_LONGEST_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _parse_field(text: str, field: _Field) -> list[int]:
    """The sorted values ``text`` allows in ``field``."""
    allowed: set[int] = set()
    for term in text.split(","):
        allowed.update(_parse_term(term, text, field))
    return sorted(allowed)


def _parse_term(term: str, text: str, field: _Field) -> range:
    if not term:
        raise _error(
            _("The %(field)s field “%(text)s” has an empty item; separate values with one comma.")
            % {"field": field.label, "text": clip(text)}
        )
    base, slash, step_text = term.partition("/")
    step = 1
    if slash:
        step = _number(step_text, term, field, step=True)
    if base == "*":
        start, end = field.low, field.high
    elif "-" in base:
        first, _dash, last = base.partition("-")
        start, end = _value(first, term, field), _value(last, term, field)
        if start > end:
            raise _error(_reversed_message(term, start, end, field))
    else:
        start = _value(base, term, field)
        end = field.high if slash else start
    return range(start, end + 1, step)


def _value(token: str, term: str, field: _Field) -> int:
    name = field.names.get(token.lower())
    if name is not None:
        return name
    return _number(token, term, field)


def _number(token: str, term: str, field: _Field, *, step: bool = False) -> int:
    if _EXTENSION.search(term):
        raise _error(
            _(
                "“%(term)s” in the %(field)s field is not standard cron: L, W, #, H and ? "
                "are extensions of other schedulers. List the values instead (e.g. 1,15 or 1-5)."
            )
            % {"term": clip(term), "field": field.label}
        )
    if not (token.isascii() and token.isdigit()) or len(token) > 4:
        raise _error(
            _(
                "“%(term)s” is not a valid %(field)s: use %(hint)s, *, ranges a-b, steps /n and lists."
            )
            % {"term": clip(term), "field": field.label, "hint": field.hint}
        )
    number = int(token)
    if step:
        span = field.high - field.low + 1
        if not 1 <= number <= span:
            raise _error(
                _("The step in “%(term)s” must be between 1 and %(span)d for the %(field)s field.")
                % {"term": clip(term), "span": span, "field": field.label}
            )
    elif not field.low <= number <= field.high:
        raise _error(
            _("%(value)d is out of range for the %(field)s field: use %(hint)s.")
            % {"value": number, "field": field.label, "hint": field.hint}
        )
    return number


def _reversed_message(term: str, start: int, end: int, field: _Field) -> str:
    # Suggest the wrap-around as two ranges: 22-2 -> 22-23,0-2 (weekdays end at 6, not 7).
    last = 6 if field.names is WEEKDAY_NAMES else field.high
    head = str(start) if start >= last else f"{start}-{last}"
    tail = str(field.low) if end == field.low else f"{field.low}-{end}"
    return _(
        "The range “%(term)s” in the %(field)s field runs backwards; cron ranges go from low "
        "to high. For a range that wraps around, write %(split)s."
    ) % {"term": clip(term), "field": field.label, "split": f"{head},{tail}"}

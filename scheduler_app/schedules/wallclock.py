"""Time zones and wall clocks: gaps and repeats of local time (see the package docstring)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduler_app.quoting import QUOTE_LIMIT as QUOTE_LIMIT  # re-exported
from scheduler_app.quoting import quote_input

UTC = dt.UTC


MINUTE = dt.timedelta(minutes=1)

#: Run times outside these years are refused: the schedule maths adds intervals of up
#: to ten years to them and applies zone offsets, and Python's dates end in 9999.
EARLIEST_RUN_AT = dt.datetime(1970, 1, 1, tzinfo=UTC)
LATEST_RUN_AT = dt.datetime(3000, 1, 1, tzinfo=UTC)


def run_at_in_range(value: dt.datetime) -> bool:
    """Whether ``value`` lies within the accepted run times.

    A naive time is a wall time in some zone: it is compared as if in UTC, with a day
    of margin either way for the zone's offset. Nothing here can overflow.
    """
    try:
        instant = value if value.tzinfo else value.replace(tzinfo=UTC)
        margin = dt.timedelta(days=1)
        return EARLIEST_RUN_AT + margin <= instant <= LATEST_RUN_AT - margin
    except (OverflowError, ValueError):
        return False


def run_at_range_message() -> str:
    """What a run time out of range is told."""
    return _("Choose a time between %(first)d and %(last)d.") % {
        "first": EARLIEST_RUN_AT.year,
        "last": LATEST_RUN_AT.year - 1,
    }


#: User input quoted in a message, through the one helper (scheduler_app.quoting).
clip = quote_input


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on ``field`` that keeps its ``code`` (a dict alone would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def get_zone(name: str | None) -> ZoneInfo:
    """Return the IANA zone ``name`` (blank means UTC); ValidationError if unknown."""
    name = "UTC" if name is None else str(name).strip() or "UTC"
    try:
        # No IANA name is longer than ~32 characters; do not hand the file system more.
        if len(name) > 64 or "\x00" in name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise field_error(
            "timezone",
            _("Unknown time zone “%(name)s”. Use an IANA name such as Europe/Berlin.")
            % {"name": clip(name)},
            "invalid_timezone",
        ) from None


def is_nonexistent(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """True if the wall time falls in a spring-forward gap of ``tz``."""
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive


def is_ambiguous(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """True if the wall time occurs twice in ``tz`` (a fall-back hour)."""
    return (
        naive.replace(tzinfo=tz, fold=0).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()
    )


@lru_cache(maxsize=8192)
def is_plain_day(tz: ZoneInfo, day: dt.date) -> bool:
    """True if every wall time of ``day`` exists once in ``tz`` (no DST change touches it).

    The fast path of cron: most days of most zones are plain, and one cached
    lookup per day replaces two offset computations per run.
    """
    start = dt.datetime(day.year, day.month, day.day)
    end = start + dt.timedelta(days=1)
    offset = start.replace(tzinfo=tz).utcoffset()
    return (
        start.replace(tzinfo=tz, fold=1).utcoffset() == offset
        and end.replace(tzinfo=tz).utcoffset() == offset
        and end.replace(tzinfo=tz, fold=1).utcoffset() == offset
    )


def _shift(naive: dt.datetime, tz: ZoneInfo) -> int:
    """Whole minutes between the two readings (fold 0 and 1) of ``naive``: a gap or repeat's size."""
    early = naive.replace(tzinfo=tz, fold=0).utcoffset() or dt.timedelta()
    late = naive.replace(tzinfo=tz, fold=1).utcoffset() or dt.timedelta()
    return abs(int((late - early).total_seconds() // 60))


def _first(count: int, holds: Callable[[int], bool]) -> int:
    """The smallest k in [0, count] for which ``holds(k)`` is true (``holds`` is monotonic)."""
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low


def gap_bounds(naive: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The wall times ``[start, end)`` of the spring-forward gap that holds ``naive``.

    ``end`` is the first valid minute after the gap: where a fixed-time run
    planned inside it runs.
    """
    minute = naive.replace(second=0, microsecond=0)
    size = max(_shift(minute, tz), 1)
    # The gap is ``size`` minutes long and holds ``minute``: its end lies in (minute, minute + size].
    end = minute + MINUTE * _first(size, lambda k: not is_nonexistent(minute + MINUTE * k, tz))
    return end - MINUTE * size, end


def repeat_bounds(naive: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The wall times ``[start, end)`` that occur twice around ``naive`` (a fall-back repeat)."""
    minute = naive.replace(second=0, microsecond=0)
    size = max(_shift(minute, tz), 1)
    # The repeat is ``size`` minutes long and holds ``minute``: it starts ``back`` minutes
    # before it, where ``back`` < size is the last step back that is still repeated.
    back = _first(size - 1, lambda k: not is_ambiguous(minute - MINUTE * (k + 1), tz))
    start = minute - MINUTE * back
    return start, start + MINUTE * size


def resolve_wall_time(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Turn a local wall time into an aware instant by the wall-clock rule of the package.

    A time in a gap runs at the first valid minute after it; a repeated time
    is read as its first occurrence.
    """
    candidate = (
        naive.replace(second=0, microsecond=0) if naive.second or naive.microsecond else naive
    )
    if is_nonexistent(candidate, tz):
        return gap_bounds(candidate, tz)[1].replace(tzinfo=tz)
    return candidate.replace(tzinfo=tz, fold=0)

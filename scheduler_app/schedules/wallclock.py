"""Time zones and wall clocks: resolving local times by the DST rule (see the package docstring)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

UTC = dt.UTC


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
        if "\x00" in name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise field_error(
            "timezone",
            _("Unknown time zone “%(name)s”. Use an IANA name such as Europe/Berlin.")
            % {"name": name},
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


def resolve_wall_time(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Turn a local wall time into an aware instant by the DST rule above."""
    candidate = (
        naive.replace(second=0, microsecond=0) if naive.second or naive.microsecond else naive
    )
    if is_nonexistent(candidate, tz):
        # Walk to the first minute after the gap; gaps are at most a few hours.
        step = candidate.replace(second=0, microsecond=0)
        for _i in range(24 * 60):
            step += dt.timedelta(minutes=1)
            if not is_nonexistent(step, tz):
                return step.replace(tzinfo=tz)
    return candidate.replace(tzinfo=tz, fold=0)

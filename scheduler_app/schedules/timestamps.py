"""The one way a time is written for people: "Mon, 2026-06-01 14:00 CEST".

It lives at the bottom of the tree so that every layer — the pages and commands, and also
monitoring's sentences (an overdue task in an alert e-mail) — writes a time the same way.
:mod:`scheduler_app.presentation.display` re-exports these for the edges.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

#: The date and time part, in Django's date-format syntax (weekday names are translated).
WHEN_FORMAT = "D, Y-m-d H:i"


def zone_of(zone: Any) -> dt.tzinfo:
    """A tzinfo from a zone, an IANA name, or anything with a ``timezone`` name (a task).

    None is the current Django time zone; an unknown name is UTC (a broken row still renders).
    """
    zone = getattr(zone, "timezone", zone)
    if zone is None or zone == "":
        return timezone.get_current_timezone()
    if isinstance(zone, dt.tzinfo):
        return zone
    name = str(zone).strip()
    # No IANA name is longer than ~32 characters; do not hand the file system more.
    if len(name) > 64 or "\x00" in name or name.startswith("/") or ".." in name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def zone_name(zone: Any) -> str:
    """The IANA name of a zone ("Europe/Berlin"), for a title or a label."""
    tz = zone_of(zone)
    return str(getattr(tz, "key", None) or tz)


def zone_label(local: dt.datetime) -> str:
    """The zone's abbreviation at that moment ("CEST"), or its name where it has none ("+03")."""
    abbreviation = local.tzname() or ""
    if abbreviation[:1].isalpha():
        return abbreviation
    return zone_name(local.tzinfo)


def format_when(when: dt.datetime | None, zone: Any = None) -> str:
    """``when`` in ``zone`` (see :func:`zone_of`) as "Mon, 2026-06-01 14:00 CEST"; "—" for None."""
    if when is None:
        return "—"
    if timezone.is_naive(when):
        when = timezone.make_aware(when, dt.UTC)
    local = when.astimezone(zone_of(zone))
    return f"{date_format(local, WHEN_FORMAT)} {zone_label(local)}"


#: A moment written as ISO 8601 text with its offset (how JSON rows keep times).
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def readable(value: Any, zone: Any = None) -> Any:
    """``value`` in the one format if it is a moment as ISO text (e.g. from a JSON row);
    anything else unchanged. For texts meant for people that carry stored values."""
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        moment = parse_datetime(value)
        if moment is not None:
            return format_when(moment, zone)
    return value

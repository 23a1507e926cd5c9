"""Times for people: one format with its zone ("Mon, 2026-06-01 14:00 CEST"), and "in 5 minutes".

Every page, message and command that shows a time uses :func:`format_when`, in the
task's own zone where there is a task (the zone its schedule is read in), so the
same run reads the same everywhere. The schedule preview uses the same format.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from scheduler_app import schedules

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
    try:
        return schedules.get_zone(str(zone))
    except ValidationError:
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


def relative(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if when is None:
        return "-"
    now = now or timezone.now()
    if abs((when - now).total_seconds()) < 60:
        return _("now")
    if when > now:
        return _("in %(delta)s") % {"delta": timeuntil(when, now, depth=1)}
    return _("%(delta)s ago") % {"delta": timesince(when, now, depth=1)}

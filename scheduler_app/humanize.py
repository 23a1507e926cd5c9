"""Relative times for people: "in 5 minutes", "3 hours ago"."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _


def relative(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if when is None:
        return "-"
    now = now or timezone.now()
    if abs((when - now).total_seconds()) < 60:
        return _("now")
    if when > now:
        return _("in %(delta)s") % {"delta": timeuntil(when, now, depth=1)}
    return _("%(delta)s ago") % {"delta": timesince(when, now, depth=1)}

"""Fixed bounds on user input that no setting changes (docs/security.md, Input bounds).

The bounds a site may want to change (file sizes, numbers of entries and
periods) are settings in :mod:`scheduler_app.conf`; these are the ones that
keep date arithmetic and parsers inside what Python and the databases hold.
"""

from __future__ import annotations

import datetime as dt

#: Dates a run time or a blackout period may use. Far enough from
#: ``date.min``/``date.max`` that a zone's offset, a day either side and the
#: next few runs of the longest interval stay representable.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(9000, 12, 31)

#: Nesting depth of a JSON document read from a user (an export has 5 levels).
MAX_JSON_DEPTH = 32

#: Blackout calendars one schedule preview may name.
MAX_PREVIEW_CALENDARS = 50

#: Digits of an id in a query string (a 64-bit integer has at most 19).
MAX_ID_DIGITS = 18


def date_in_range(value: dt.date) -> bool:
    """Whether ``value`` (a date or date-time) lies within the accepted dates."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE

"""iCalendar files and the admin's periods formset, as the calendar tests write them."""

from __future__ import annotations

import datetime as dt
from typing import Any

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
TAIL = "END:VCALENDAR\r\n"


def event(*lines: str, uid: str = "a@test") -> str:
    """One VEVENT with these property lines."""
    return (
        "BEGIN:VEVENT\r\nUID:"
        + uid
        + "\r\n"
        + "".join(f"{x}\r\n" for x in lines)
        + "END:VEVENT\r\n"
    )


def ics(*events: str) -> str:
    """A calendar file holding ``events``."""
    return HEAD + "".join(events) + TAIL


def all_day(day: dt.date, summary: str, days: int = 1) -> str:
    """An all-day event of ``days`` days from ``day``."""
    end = day + dt.timedelta(days=days)
    return event(
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{end:%Y%m%d}",
        f"SUMMARY:{summary}",
        uid=f"{summary}-{day}@test",
    )


def periods_formset(rows: tuple[dict[str, Any], ...] | list[dict[str, Any]] = ()) -> dict[str, str]:
    """The POST data of the calendar admin's periods inline with ``rows``."""
    data = {
        "periods-TOTAL_FORMS": str(len(rows)),
        "periods-INITIAL_FORMS": "0",
        "periods-MIN_NUM_FORMS": "0",
        "periods-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"periods-{i}-{k}": v for k, v in row.items()})
    return data

"""Reading an iCalendar (.ics) file into blackout periods, with bounds.

The file comes from a user: every way it can be wrong (too large, not UTF-8,
not iCalendar, an event without a start, a start that is a period or a time,
an end before the start, a repeating event, a zone nobody knows, a date out
of range, more events than a calendar may hold) is a ValidationError that
names the event, never another exception.

Example::

    periods = ics.parse(uploaded.read())  # -> [calendars.Period, ...]
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduler_app import bounds, conf
from scheduler_app.quoting import quote_input
from scheduler_app.services.periods import Period, check_period


def _quote(exc: BaseException) -> str:
    # The parser's message repeats the file's line: quoted like any other input.
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return quote_input("".join(c if c.isprintable() else "?" for c in text))


def _text(data: bytes | str) -> str:
    """The file as text: bounded in size, UTF-8 (RFC 5545's charset), a byte order mark allowed."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    limit = conf.get().CALENDAR_MAX_BYTES
    if len(raw) > limit:
        raise ValidationError(
            _("The file is larger than %(limit)d bytes.") % {"limit": limit}, code="too_large"
        )
    if not raw.strip():
        raise ValidationError(_("The file is empty."), code="empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not UTF-8 text (byte %(at)d); save it as UTF-8 and try again.")
            % {"at": exc.start},
            code="not_utf8",
        ) from None
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise ValidationError(
            _("This is not a valid iCalendar (.ics) file: it does not begin with BEGIN:VCALENDAR."),
            code="invalid_ics",
        )
    return text


_EVENT_LINE = re.compile(r"^BEGIN:VEVENT[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)
_BEGIN_LINE = re.compile(r"^BEGIN:", re.MULTILINE | re.IGNORECASE)
#: Components (alarms, time zones and their rules) allowed per event the calendar may hold.
COMPONENTS_PER_EVENT = 10


def _too_many_events(count: int, limit: int) -> ValidationError:
    return ValidationError(
        _("The file has %(count)d events; a calendar holds at most %(max)d periods.")
        % {"count": count, "max": limit},
        code="too_many",
    )


def _check_size_of_tree(text: str) -> None:
    """Count the events before parsing: the parser takes about a millisecond per component."""
    limit = conf.get().CALENDAR_MAX_PERIODS
    events = len(_EVENT_LINE.findall(text))
    if events > limit:
        raise _too_many_events(events, limit)
    components = len(_BEGIN_LINE.findall(text))
    if components > COMPONENTS_PER_EVENT * limit + 100:
        raise ValidationError(
            _("The file has %(count)d components (BEGIN: lines); that is too many.")
            % {"count": components},
            code="too_many",
        )


def parse(data: bytes | str) -> list[Period]:
    """The VEVENTs of an iCalendar file as periods; ValidationError (one per bad event) otherwise.

    All-day events (``DTSTART;VALUE=DATE``) become whole days, with DTEND
    exclusive as RFC 5545 says; timed events keep their times, read in the
    event's own zone and turned into wall-clock times of that zone. Recurring
    events (RRULE, RDATE) are refused: expand them in the calendar
    application first.
    """
    import icalendar

    text = _text(data)
    _check_size_of_tree(text)
    try:
        cal = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # noqa: BLE001 - the parser's failure on an untrusted file is the file's
        raise ValidationError(
            _("This is not a valid iCalendar (.ics) file: %(error)s") % {"error": _quote(exc)},
            code="invalid_ics",
        ) from None
    if getattr(cal, "name", "") != "VCALENDAR":
        raise ValidationError(
            _("This is not an iCalendar file: it has no VCALENDAR."), code="invalid_ics"
        )
    # VEVENTs are children of the VCALENDAR (RFC 5545 3.4); nothing deeper is walked.
    events = [c for c in cal.subcomponents if getattr(c, "name", "") == "VEVENT"]
    if not events:
        raise ValidationError(_("The file has no events."), code="no_events")
    limit = conf.get().CALENDAR_MAX_PERIODS
    if len(events) > limit:
        raise _too_many_events(len(events), limit)
    periods: list[Period] = []
    errors: list[ValidationError] = []
    for number, event in enumerate(events, start=1):
        try:
            periods.append(event_period(event, number))
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return periods


def _one(event: Any, key: str, name: str) -> Any:
    value = event.get(key)
    if isinstance(value, list):
        raise ValidationError(
            _("The event %(event)s has more than one %(key)s.") % {"event": name, "key": key},
            code="bad_date",
        )
    return value


def _moment(event: Any, key: str, name: str) -> dt.date | None:
    """DTSTART or DTEND as a date or a date-time (None when absent)."""
    prop = _one(event, key, name)
    if prop is None:
        return None
    try:
        value = prop.dt
    except Exception as exc:  # noqa: BLE001 - a broken property of an untrusted file
        raise ValidationError(
            _("The event %(event)s has a %(key)s that cannot be read: %(error)s")
            % {"event": name, "key": key, "error": _quote(exc)},
            code="bad_date",
        ) from None
    if not isinstance(value, dt.date):  # a PERIOD (a tuple), a TIME, a DURATION
        raise ValidationError(
            _("The event %(event)s has a %(key)s that is not a date or a date-time.")
            % {"event": name, "key": key},
            code="bad_date",
        )
    zone = getattr(prop, "params", {}).get("TZID")
    if zone and isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ValidationError(
            _("The event %(event)s uses the time zone “%(zone)s”, which the file does not define.")
            % {"event": name, "zone": _quote(ValueError(zone))},
            code="bad_zone",
        )
    if not bounds.date_in_range(value):
        raise _out_of_range(name)
    return value


def _out_of_range(name: str) -> ValidationError:
    return ValidationError(
        _("The event %(event)s lies outside %(earliest)s to %(latest)s.")
        % {"event": name, "earliest": bounds.EARLIEST_DATE, "latest": bounds.LATEST_DATE},
        code="out_of_range",
    )


def _end(event: Any, start: dt.date, name: str) -> dt.date | None:
    end = _moment(event, "DTEND", name)
    duration_prop = _one(event, "DURATION", name)
    if duration_prop is None:
        return end
    if end is not None:
        raise ValidationError(
            _("The event %(event)s has both DTEND and DURATION; keep one.") % {"event": name},
            code="bad_date",
        )
    try:
        duration = duration_prop.dt
    except Exception:  # noqa: BLE001 - a broken property of an untrusted file
        duration = None
    if not isinstance(duration, dt.timedelta):
        raise ValidationError(
            _("The event %(event)s has a DURATION that cannot be read.") % {"event": name},
            code="bad_date",
        )
    try:
        end = start + duration
    except OverflowError:
        raise _out_of_range(name) from None
    if not bounds.date_in_range(end):
        raise _out_of_range(name)
    return end


def event_period(event: Any, number: int) -> Period:
    """One VEVENT as a period, or a ValidationError naming it."""
    summary = event.get("SUMMARY")
    if isinstance(summary, list):
        summary = summary[0] if summary else ""
    label = " ".join(str(summary or "").split())[:200]
    name = f"“{label}”" if label else _("event %(number)d") % {"number": number}
    if event.get("RRULE") is not None or event.get("RDATE") is not None:
        raise ValidationError(
            _("The event %(event)s repeats (RRULE or RDATE); only single events can be imported.")
            % {"event": name},
            code="recurring",
        )
    start = _moment(event, "DTSTART", name)
    if start is None:
        raise ValidationError(
            _("The event %(event)s has no start (DTSTART).") % {"event": name}, code="no_start"
        )
    end = _end(event, start, name)
    if end is not None and isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        raise ValidationError(
            _("The event %(event)s mixes a date and a date-time.") % {"event": name},
            code="bad_date",
        )
    if not isinstance(start, dt.datetime):
        # All-day: DTEND is the day after the last day; no DTEND means one day.
        if end is not None and end <= start:
            period = Period(start, end, dt.time(), dt.time(), label)  # reported as reversed
        else:
            period = Period(start, end - dt.timedelta(days=1) if end else start, label=label)
    else:
        assert end is None or isinstance(end, dt.datetime)
        end = end if end is not None else start
        if start.tzinfo is not None and end.tzinfo is not None:
            end = end.astimezone(start.tzinfo)
        period = Period(
            start.date(),
            end.date(),
            start.time().replace(tzinfo=None),
            end.time().replace(tzinfo=None),
            label,
        )
    try:
        check_period(period)
    except ValidationError as exc:
        raise ValidationError(
            _("In %(event)s: %(error)s") % {"event": name, "error": " ".join(exc.messages)},
            code=exc.code,
        ) from None
    return period

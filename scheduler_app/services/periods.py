"""A blackout period before it is saved (from a form, an import or an .ics file) and its checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduler_app import bounds, conf
from scheduler_app.models import BlackoutPeriod

#: Periods longer than this are refused (a typo in a year, not a freeze).
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Period:
    """A period before it is saved (from a form or an .ics file)."""

    start_date: dt.date
    end_date: dt.date
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    label: str = ""

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return BlackoutPeriod(
            start_date=self.start_date,
            end_date=self.end_date,
            start_time=self.start_time,
            end_time=self.end_time,
        ).bounds

    def describe(self) -> str:
        start, end = self.bounds
        text = f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
        return f"“{self.label}” ({text})" if self.label else text


# --- validation --------------------------------------------------------------


def check_zone(name: str) -> str:
    """An IANA zone name, or blank; raises ValidationError on ``timezone``."""
    if name is not None and not isinstance(name, str):
        raise ValidationError({"timezone": _("Give the time zone as text.")}, code="invalid")
    name = (name or "").strip()
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            {"timezone": _("Unknown time zone “%(zone)s”.") % {"zone": name}},
            code="invalid_timezone",
        ) from None
    return name


def check_period(period: Period) -> None:
    """Refuse a reversed, empty, implausibly long or out-of-range period."""
    if not (bounds.date_in_range(period.start_date) and bounds.date_in_range(period.end_date)):
        raise ValidationError(
            _("The period %(label)s lies outside %(earliest)s to %(latest)s.")
            % {
                "label": f"“{period.label}”" if period.label else period.start_date,
                "earliest": bounds.EARLIEST_DATE,
                "latest": bounds.LATEST_DATE,
            },
            code="out_of_range",
        )
    start, end = period.bounds
    if end <= start:
        raise ValidationError(
            _("The period %(period)s ends before it starts.") % {"period": period.describe()},
            code="reversed",
        )
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError(
            _("The period %(period)s is longer than %(days)d days.")
            % {"period": period.describe(), "days": MAX_PERIOD_DAYS},
            code="too_long",
        )


def check_count(count: int) -> None:
    """Refuse more periods than one calendar may hold (``SCHEDULER["CALENDAR_MAX_PERIODS"]``)."""
    limit = conf.get().CALENDAR_MAX_PERIODS
    if count > limit:
        raise ValidationError(
            _("A calendar holds at most %(max)d periods; this one would have %(count)d.")
            % {"max": limit, "count": count},
            code="too_many",
        )


def check_periods(periods: Iterable[Period]) -> None:
    """Refuse too many periods, reversed ones and ones that overlap each other, naming each."""
    periods = list(periods)
    check_count(len(periods))
    errors: list[ValidationError] = []
    ordered: list[Period] = []
    for period in periods:
        try:
            check_period(period)
        except ValidationError as exc:
            errors.append(exc)
        else:
            ordered.append(period)
    ordered.sort(key=lambda p: p.bounds)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.bounds[0] < earlier.bounds[1]:
            errors.append(
                ValidationError(
                    _("The periods %(first)s and %(second)s overlap; merge them into one.")
                    % {"first": earlier.describe(), "second": later.describe()},
                    code="overlap",
                )
            )
    if errors:
        raise ValidationError(errors)

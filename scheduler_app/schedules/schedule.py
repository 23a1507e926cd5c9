"""The Schedule value object: one of the five schedule types and its parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from scheduler_app.schedules.cron import cron_runs_after, describe_cron, normalize_cron
from scheduler_app.schedules.fields import (
    CONDITIONAL,
    CRON,
    EVENT,
    FIELDS,
    INTERVAL,
    ONE_TIME,
    RECURRING,
    SCHEDULE_TYPES,
)
from scheduler_app.schedules.intervals import (
    describe_interval,
    interval_runs_after,
    parse_interval,
)
from scheduler_app.schedules.timestamps import format_when
from scheduler_app.schedules.wallclock import (
    UTC,
    clip,
    field_error,
    get_zone,
    resolve_wall_time,
    run_at_in_range,
    run_at_range_message,
)

# Longest event name the model stores.
MAX_EVENT_LENGTH = 120


@dataclass(frozen=True)
class Schedule:
    """When a task runs: one of the five schedule types and its parameters.

    ``run_at`` is the run time of a one_time schedule and the anchor of a
    recurring one: runs fall on ``run_at + k * interval``. ``validate`` pins
    a missing anchor to ``now`` (the first run is one interval later), so
    later runs keep that phase however and whenever they are computed.
    """

    type: str
    cron: str = ""
    run_at: dt.datetime | None = None
    interval_every: int | None = None
    interval_unit: str = ""
    event: str = ""
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return get_zone(self.timezone)

    @property
    def is_timed(self) -> bool:
        """Whether runs fall at times (every type but event, which runs when emitted)."""
        return self.type != EVENT

    @classmethod
    def from_columns(cls, source: Any) -> Schedule:
        """The schedule of a ScheduledTask, or of a mapping keyed by its columns (a claimed row,
        the admin form's cleaned data); a missing or empty value takes the default."""
        if isinstance(source, Mapping):
            values = {f.attribute: source.get(f.column) for f in FIELDS}
        else:
            values = {f.attribute: getattr(source, f.column) for f in FIELDS}
        return cls._of(values)

    @classmethod
    def from_inputs(cls, data: Mapping[str, Any]) -> Schedule:
        """The (unvalidated) schedule a scheduling form's cleaned data gives."""
        return cls._of({f.attribute: data.get(f.input) for f in FIELDS})

    @classmethod
    def from_arguments(
        cls,
        schedule_type: str,
        *,
        cron: str | None = None,
        run_at: Any = None,
        interval: Any = None,
        event: str | None = None,
        timezone: str | None = None,
    ) -> Schedule:
        """The (unvalidated) schedule of the services' keyword arguments.

        The interval is read for recurring schedules only (others ignore it);
        a shape ``parse_interval`` refuses raises its ValidationError.
        """
        every, unit = (None, "")
        if schedule_type == RECURRING and interval is not None:
            every, unit = parse_interval(interval)
        return cls._of(
            {
                "type": schedule_type,
                "cron": cron,
                "run_at": run_at,
                "interval_every": every,
                "interval_unit": unit,
                "event": event,
                "timezone": timezone,
            }
        )

    @classmethod
    def _of(cls, values: dict[str, Any]) -> Schedule:
        # An empty value (None or "") is the field's default: "" for texts, UTC for the zone.
        return cls(
            **{
                name: value if value not in (None, "") else _DEFAULTS.get(name, "")
                for name, value in values.items()
            }
        )

    def columns(self) -> dict[str, Any]:
        """``{ScheduledTask column: value}`` for every schedule field."""
        return {f.column: getattr(self, f.attribute) for f in FIELDS}

    def arguments(self) -> dict[str, Any]:
        """The services' keyword arguments for this schedule (the interval as one pair)."""
        values: dict[str, Any] = {}
        for f in FIELDS:
            if f.argument != INTERVAL:
                values[f.argument] = getattr(self, f.attribute)
            elif INTERVAL not in values:
                every = self.interval_every
                values[INTERVAL] = (every, self.interval_unit or "minutes") if every else None
        return values

    def validate(self, now: dt.datetime, *, check_past: bool = True) -> Schedule:
        """Return a normalized copy, or raise ValidationError with field errors."""
        if self.type not in SCHEDULE_TYPES:
            raise field_error(
                "schedule_type",
                _("Unknown schedule type “%(type)s”; use one of: %(known)s.")
                % {"type": clip(self.type), "known": ", ".join(SCHEDULE_TYPES)},
                "invalid_schedule_type",
            )
        errors: dict[str, list[ValidationError]] = {}
        zone_name = "UTC"
        try:
            zone_name = self.zone.key
        except ValidationError as exc:
            errors.update(exc.error_dict)
        try:
            normalized = self._validate_fields(now, zone_name, check_past=check_past)
        except ValidationError as exc:
            errors.update(exc.error_dict)
        if errors:
            raise ValidationError(errors)
        return normalized

    def _validate_fields(self, now: dt.datetime, zone_name: str, *, check_past: bool) -> Schedule:
        zone = get_zone(zone_name)
        if self.type in (CRON, CONDITIONAL):
            return Schedule(self.type, cron=normalize_cron(self.cron), timezone=zone_name)
        if self.type == ONE_TIME:
            if self.run_at is None or self.run_at == "":
                raise field_error("run_at", _("Give the date and time to run at."), "required")
            run_at = _aware(self.run_at, zone)
            if check_past and run_at <= now:
                raise field_error(
                    "run_at",
                    _("The run time %(when)s is in the past; choose a time from now on.")
                    % {"when": format_when(run_at, zone)},
                    "in_past",
                )
            return Schedule(self.type, run_at=run_at.astimezone(UTC), timezone=zone_name)
        if self.type == RECURRING:
            if self.interval_every is None:
                raise field_error(
                    "interval", _("Give the interval, e.g. “15 minutes”."), "required"
                )
            every, unit = parse_interval((self.interval_every, self.interval_unit or "minutes"))
            if self.run_at is None or self.run_at == "":
                # Runs fall on now + k * interval: the first one interval from now.
                anchor = now.replace(microsecond=0)
            else:
                anchor = _aware(self.run_at, zone)
            return Schedule(
                self.type,
                run_at=anchor.astimezone(UTC),
                interval_every=every,
                interval_unit=unit,
                timezone=zone_name,
            )
        event = str(self.event or "").strip()
        if not event:
            raise field_error("event", _("Name the event that triggers this task."), "required")
        if len(event) > MAX_EVENT_LENGTH:
            raise field_error(
                "event",
                _("Keep the event name to %(max)d characters.") % {"max": MAX_EVENT_LENGTH},
                "max_length",
            )
        return Schedule(self.type, event=event, timezone=zone_name)

    def runs_after(
        self,
        after: dt.datetime,
        count: int = 5,
        *,
        anchor: dt.datetime | None = None,
    ) -> list[dt.datetime]:
        """The next ``count`` runs strictly after ``after`` (aware, in the task's zone).

        ``anchor`` is used by a recurring schedule without ``run_at`` only.
        """
        zone = self.zone
        if self.type in (CRON, CONDITIONAL):
            return cron_runs_after(self.cron, zone, after, count)
        if self.type == ONE_TIME:
            due = self.run_at is not None and self.run_at > after and count > 0
            return [self.run_at.astimezone(zone)] if due else []  # type: ignore[union-attr]
        if self.type == RECURRING:
            start = self.run_at or anchor or after
            return interval_runs_after(
                self.interval_every or 1, self.interval_unit or "minutes", start, zone, after, count
            )
        return []

    def first_run(
        self, now: dt.datetime, *, anchor: dt.datetime | None = None
    ) -> dt.datetime | None:
        """When a new (or resumed) task first runs, in UTC; None for event schedules."""
        if self.type == RECURRING and self.run_at is not None and self.run_at > now:
            return self.run_at.astimezone(UTC)
        return self.next_after(now, anchor=anchor)

    def next_after(
        self, after: dt.datetime, *, anchor: dt.datetime | None = None
    ) -> dt.datetime | None:
        """The next run strictly after ``after``, in UTC, or None."""
        runs = self.runs_after(after, 1, anchor=anchor)
        return runs[0].astimezone(UTC) if runs else None

    def describe(self) -> str:
        """A sentence for people: ``At 06:00, Monday through Friday (Europe/Berlin)``."""
        if self.type == CRON:
            return f"{describe_cron(self.cron)} ({self.timezone})"
        if self.type == CONDITIONAL:
            return _("When its condition holds, checked: %(when)s") % {
                "when": f"{describe_cron(self.cron)} ({self.timezone})"
            }
        if self.type == ONE_TIME:
            when = format_when(self.run_at, self.zone) if self.run_at else "?"
            return _("Once, at %(when)s") % {"when": when}
        if self.type == RECURRING:
            return describe_interval(self.interval_every or 1, self.interval_unit or "minutes")
        return _("On event “%(event)s”") % {"event": self.event}


_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Schedule) if f.name != "type"}


def _aware(value: object, zone: ZoneInfo) -> dt.datetime:
    """An aware datetime from a datetime or ISO text; naive times are wall times in ``zone``."""
    parsed: dt.datetime | None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        raise field_error(
            "run_at", _("Enter a valid date and time, e.g. 2030-01-31 06:00."), "invalid"
        )
    if not run_at_in_range(parsed):
        # Checked as written, before any offset: near year 1 or 9999 a zone's offset, a
        # DST check or the next run of an interval would overflow.
        raise field_error("run_at", run_at_range_message(), "out_of_range")
    if parsed.tzinfo is None:
        return resolve_wall_time(parsed, zone)
    return parsed

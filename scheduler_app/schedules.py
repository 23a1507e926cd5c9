"""Pure schedule maths: validation, next runs, descriptions. No ORM here.

Times are stored in UTC and computed in the task's own zone. Daylight-saving
rule, the same for every schedule type that works on the wall clock (cron and
day/week intervals):

* a local time that does not exist (clocks spring forward) runs at the first
  valid minute after the gap (02:30 on a Berlin spring-forward day runs at
  03:00);
* a local time that occurs twice (clocks fall back) runs once, on its first
  occurrence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

UTC = dt.UTC

CRON = "cron"
ONE_TIME = "one_time"
RECURRING = "recurring"
EVENT = "event"
CONDITIONAL = "conditional"
SCHEDULE_TYPES = (CRON, ONE_TIME, RECURRING, EVENT, CONDITIONAL)

INTERVAL_UNITS = {
    "minutes": dt.timedelta(minutes=1),
    "hours": dt.timedelta(hours=1),
    "days": dt.timedelta(days=1),
    "weeks": dt.timedelta(weeks=1),
}
# Days and weeks keep their wall-clock time across DST; minutes and hours are
# elapsed time.
WALL_CLOCK_UNITS = {"days", "weeks"}

CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Stop looking for the next match after this many candidates (e.g. "0 0 30 2 *").
_MAX_CANDIDATES = 2000


# -- time zones -------------------------------------------------------------


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def get_zone(name: str | None) -> ZoneInfo:
    """Return the IANA zone ``name``; ValidationError if unknown."""
    name = (name or "UTC").strip()
    try:
        if not name or "\x00" in name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(
            {"timezone": _("Unknown time zone “%(name)s”. Use an IANA name such as Europe/Berlin.")
             % {"name": name}},
            code="invalid_timezone",
        ) from None


# -- wall-clock resolution ----------------------------------------------------


def is_nonexistent(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """True if the wall time falls in a spring-forward gap of ``tz``."""
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive


def is_ambiguous(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """True if the wall time occurs twice in ``tz`` (a fall-back hour)."""
    return naive.replace(tzinfo=tz, fold=0).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()


def resolve_wall_time(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Turn a local wall time into an aware instant by the DST rule above."""
    candidate = naive.replace(second=0, microsecond=0) if naive.second or naive.microsecond else naive
    if is_nonexistent(candidate, tz):
        # Walk to the first minute after the gap; gaps are at most a few hours.
        step = candidate.replace(second=0, microsecond=0)
        for _i in range(24 * 60):
            step += dt.timedelta(minutes=1)
            if not is_nonexistent(step, tz):
                return step.replace(tzinfo=tz)
    return candidate.replace(tzinfo=tz, fold=0)


# -- cron ---------------------------------------------------------------------


def normalize_cron(expression: str | None) -> str:
    """Return a validated 5-field cron expression (macros expanded)."""
    from croniter import croniter

    text = " ".join((expression or "").split())
    if not text:
        raise ValidationError({"cron": _("Enter a cron expression, e.g. “0 6 * * 1-5”.")}, code="required")
    lowered = text.lower()
    if lowered.startswith("@"):
        if lowered not in CRON_MACROS:
            raise ValidationError(
                {"cron": _("Unknown cron macro “%(macro)s”. Use one of: %(known)s.")
                 % {"macro": text, "known": ", ".join(CRON_MACROS)}},
                code="invalid_cron",
            )
        return CRON_MACROS[lowered]
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValidationError(
            {"cron": _("A cron expression has 5 fields (minute hour day month weekday); "
                       "“%(expr)s” has %(count)d.") % {"expr": text, "count": len(fields)}},
            code="invalid_cron",
        )
    try:
        valid = croniter.is_valid(text)
    except Exception:  # noqa: BLE001 - the parser may raise anything on garbage
        valid = False
    if not valid:
        raise ValidationError(
            {"cron": _("“%(expr)s” is not a valid cron expression.") % {"expr": text}},
            code="invalid_cron",
        )
    return text


def describe_cron(expression: str) -> str:
    """A human-readable description, e.g. ``At 06:00, Monday through Friday``."""
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    try:
        return get_description(normalize_cron(expression), options)
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - description is cosmetic; fall back to the text
        return expression


def cron_runs_after(expression: str, tz: ZoneInfo, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` runs strictly after ``after``, as aware times in ``tz``.

    Iterates on the naive wall clock, then resolves each wall time by the DST
    rule; equal instants (several times in one gap) collapse into one run.
    """
    from croniter import CroniterBadDateError, croniter

    local_after = after.astimezone(tz)
    # Start one minute back on the wall clock so a slot in the first
    # occurrence of a repeated hour is not missed; results are filtered by instant.
    start = local_after.replace(tzinfo=None, second=0, microsecond=0) - dt.timedelta(minutes=1)
    itr = croniter(expression, start)
    runs: list[dt.datetime] = []
    for _i in range(_MAX_CANDIDATES):
        try:
            naive = itr.get_next(dt.datetime)
        except (CroniterBadDateError, StopIteration):
            break
        instant = resolve_wall_time(naive, tz)
        if instant.astimezone(UTC) <= after.astimezone(UTC):
            continue
        if runs and instant.astimezone(UTC) <= runs[-1].astimezone(UTC):
            continue
        runs.append(instant)
        if len(runs) >= count:
            break
    return runs


# -- intervals ----------------------------------------------------------------


def parse_interval(value: object) -> tuple[int, str]:
    """Accept ``timedelta``, ``(n, unit)``, ``"n unit"`` or minutes as int."""
    every: object
    unit: object
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        if seconds <= 0 or value.total_seconds() != seconds:
            raise _interval_error()
        for name in ("weeks", "days", "hours", "minutes"):
            size = int(INTERVAL_UNITS[name].total_seconds())
            if seconds % size == 0:
                return seconds // size, name
        raise ValidationError({"interval": _("Intervals are whole minutes.")}, code="invalid_interval")
    if isinstance(value, (tuple, list)) and len(value) == 2:
        every, unit = value
    elif isinstance(value, str):
        parts = value.split()
        if len(parts) != 2:
            raise _interval_error()
        every, unit = parts
    elif isinstance(value, int) and not isinstance(value, bool):
        every, unit = value, "minutes"
    else:
        raise _interval_error()
    unit = str(unit).lower()
    if not unit.endswith("s"):
        unit += "s"
    if unit not in INTERVAL_UNITS:
        raise ValidationError(
            {"interval": _("Unknown interval unit “%(unit)s”; use minutes, hours, days or weeks.")
             % {"unit": unit}},
            code="invalid_interval",
        )
    try:
        number = int(str(every))
    except ValueError:
        raise _interval_error() from None
    if number <= 0:
        raise ValidationError({"interval": _("The interval must be at least 1.")}, code="invalid_interval")
    return number, unit


def _interval_error() -> ValidationError:
    return ValidationError(
        {"interval": _("Give the interval as a positive number and a unit, e.g. “15 minutes”.")},
        code="invalid_interval",
    )


def interval_runs_after(
    every: int, unit: str, anchor: dt.datetime, tz: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """Runs at ``anchor + k * interval`` strictly after ``after``."""
    step = INTERVAL_UNITS[unit] * every
    runs: list[dt.datetime] = []
    if unit in WALL_CLOCK_UNITS:
        local_anchor = anchor.astimezone(tz).replace(tzinfo=None)
        local_after = after.astimezone(tz).replace(tzinfo=None)
        k = max(0, (local_after - local_anchor) // step - 1)
        naive = local_anchor + step * k
        while len(runs) < count:
            instant = resolve_wall_time(naive, tz)
            if instant.astimezone(UTC) > after.astimezone(UTC):
                runs.append(instant)
            naive += step
        return runs
    anchor_utc = anchor.astimezone(UTC)
    after_utc = after.astimezone(UTC)
    k = 0 if after_utc < anchor_utc else (after_utc - anchor_utc) // step + 1
    current = anchor_utc + step * k
    while len(runs) < count:
        if current > after_utc:
            runs.append(current.astimezone(tz))
        current += step
    return runs


# -- the schedule value object ------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a task runs: one of the five schedule types and its parameters."""

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
        return self.type != EVENT

    def validate(self, now: dt.datetime, *, check_past: bool = True) -> Schedule:
        """Return a normalized copy, or raise ValidationError with field errors."""
        if self.type not in SCHEDULE_TYPES:
            raise ValidationError(
                {"schedule_type": _("Unknown schedule type “%(type)s”; use one of: %(known)s.")
                 % {"type": self.type, "known": ", ".join(SCHEDULE_TYPES)}},
                code="invalid_schedule_type",
            )
        self.zone  # noqa: B018 - validates the zone
        if self.type in (CRON, CONDITIONAL):
            return Schedule(self.type, cron=normalize_cron(self.cron), timezone=self.timezone)
        if self.type == ONE_TIME:
            if self.run_at is None:
                raise ValidationError({"run_at": _("Give the date and time to run at.")}, code="required")
            run_at = self._aware(self.run_at)
            if check_past and run_at <= now:
                raise ValidationError(
                    {"run_at": _("The run time %(when)s is in the past.")
                     % {"when": run_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")}},
                    code="in_past",
                )
            return Schedule(self.type, run_at=run_at.astimezone(UTC), timezone=self.timezone)
        if self.type == RECURRING:
            every, unit = parse_interval(
                (self.interval_every, self.interval_unit or "minutes")
                if self.interval_every is not None
                else None
            )
            run_at = self._aware(self.run_at).astimezone(UTC) if self.run_at else None
            return Schedule(self.type, run_at=run_at, interval_every=every, interval_unit=unit,
                            timezone=self.timezone)
        event = (self.event or "").strip()
        if not event:
            raise ValidationError({"event": _("Name the event that triggers this task.")}, code="required")
        return Schedule(self.type, event=event, timezone=self.timezone)

    def _aware(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            return resolve_wall_time(value, self.zone)
        return value

    def runs_after(self, after: dt.datetime, count: int = 5, *, anchor: dt.datetime | None = None,
                   ) -> list[dt.datetime]:
        """The next ``count`` runs strictly after ``after`` (aware, in the task's zone)."""
        zone = self.zone
        if self.type in (CRON, CONDITIONAL):
            return cron_runs_after(self.cron, zone, after, count)
        if self.type == ONE_TIME:
            return [self.run_at.astimezone(zone)] if self.run_at and self.run_at > after else []
        if self.type == RECURRING:
            start = self.run_at or anchor or after
            return interval_runs_after(self.interval_every or 1, self.interval_unit or "minutes",
                                       start, zone, after, count)
        return []

    def first_run(self, now: dt.datetime, *, anchor: dt.datetime | None = None) -> dt.datetime | None:
        """When a new (or resumed) task first runs."""
        if self.type == RECURRING and self.run_at is None:
            # No explicit start: the first run is one interval from now.
            anchor = anchor or now
            runs = self.runs_after(now, 1, anchor=anchor)
            return runs[0].astimezone(UTC) if runs else None
        if self.type == RECURRING and self.run_at is not None and self.run_at > now:
            return self.run_at
        runs = self.runs_after(now, 1, anchor=anchor)
        return runs[0].astimezone(UTC) if runs else None

    def next_after(self, after: dt.datetime, *, anchor: dt.datetime | None = None) -> dt.datetime | None:
        runs = self.runs_after(after, 1, anchor=anchor)
        return runs[0].astimezone(UTC) if runs else None

    def describe(self) -> str:
        """A sentence for people: ``At 06:00, Monday through Friday (Europe/Berlin)``."""
        if self.type == CRON:
            return f"{describe_cron(self.cron)} ({self.timezone})"
        if self.type == CONDITIONAL:
            return _("When its condition holds, checked: %(when)s") % {
                "when": f"{describe_cron(self.cron)} ({self.timezone})"}
        if self.type == ONE_TIME:
            when = self.run_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z") if self.run_at else "?"
            return _("Once, at %(when)s") % {"when": when}
        if self.type == RECURRING:
            return _("Every %(every)s %(unit)s") % {"every": self.interval_every, "unit": self.interval_unit}
        return _("On event “%(event)s”") % {"event": self.event}


def dst_note(instant: dt.datetime, tz: ZoneInfo) -> str:
    """Explain what the DST rule does at ``instant``, or '' on an ordinary day."""
    local = instant.astimezone(tz).replace(tzinfo=None)
    if is_ambiguous(local, tz):
        return _("%(time)s occurs twice on this day (clocks go back); runs once, on the first.") % {
            "time": local.strftime("%H:%M")}
    before = local - dt.timedelta(minutes=1)
    if is_nonexistent(before, tz):
        return _("Clocks go forward here; a run planned in the skipped hour runs at %(time)s.") % {
            "time": local.strftime("%H:%M")}
    return ""

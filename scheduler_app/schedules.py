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
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
# Longest interval accepted; beyond it the date arithmetic would overflow soon.
MAX_INTERVAL = dt.timedelta(days=3660)
# Longest event name the model stores.
MAX_EVENT_LENGTH = 120
# Random ("R") and hashed ("H") cron fields give different times on every
# evaluation; a schedule must be the same each time it is computed.
_NONDETERMINISTIC_CRON = re.compile(r"(^|[\s,/-])[RH]($|[\s,/(-])", re.IGNORECASE)


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on ``field`` that keeps its ``code`` (a dict alone would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})


# -- time zones -------------------------------------------------------------


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


# -- wall-clock resolution ----------------------------------------------------


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


# -- cron ---------------------------------------------------------------------


def normalize_cron(expression: str | None) -> str:
    """Return a validated 5-field cron expression (macros expanded)."""
    from croniter import CroniterBadDateError, croniter

    text = " ".join(str(expression or "").split())
    if not text:
        raise _cron_error(_("Enter a cron expression, e.g. “0 6 * * 1-5”."), "required")
    lowered = text.lower()
    if lowered.startswith("@"):
        if lowered not in CRON_MACROS:
            raise _cron_error(
                _("Unknown cron macro “%(macro)s”. Use one of: %(known)s.")
                % {"macro": text, "known": ", ".join(CRON_MACROS)}
            )
        return CRON_MACROS[lowered]
    fields = text.split(" ")
    if len(fields) != 5:
        raise _cron_error(
            _(
                "A cron expression has 5 fields (minute hour day month weekday); "
                "“%(expr)s” has %(count)d."
            )
            % {"expr": text, "count": len(fields)}
        )
    if _NONDETERMINISTIC_CRON.search(text):
        raise _cron_error(
            _("“%(expr)s” uses random (R) or hashed (H) values; give fixed minutes and hours.")
            % {"expr": text}
        )
    try:
        valid = croniter.is_valid(text)
    except Exception:  # noqa: BLE001 - the parser may raise anything on garbage
        valid = False
    if not valid:
        raise _cron_error(_("“%(expr)s” is not a valid cron expression.") % {"expr": text})
    try:
        croniter(text, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except CroniterBadDateError:
        raise _cron_error(
            _("“%(expr)s” never matches a date (e.g. 30 February).") % {"expr": text}
        ) from None
    except Exception:  # noqa: BLE001 - is_valid accepted something the iterator cannot use
        raise _cron_error(
            _("“%(expr)s” is not a valid cron expression.") % {"expr": text}
        ) from None
    return text


def _cron_error(message: str, code: str = "invalid_cron") -> ValidationError:
    return field_error("cron", message, code)


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


def cron_runs_after(
    expression: str, tz: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """The next ``count`` runs strictly after ``after``, as aware times in ``tz``.

    Iterates on the naive wall clock, then resolves each wall time by the DST
    rule; equal instants (several times in one gap) collapse into one run.
    """
    from croniter import CroniterBadDateError, croniter

    if count <= 0:
        return []
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
        seconds = value.total_seconds()
        if seconds <= 0 or seconds % 60:
            raise field_error(
                "interval",
                _("Give the interval as a positive number of whole minutes."),
                "invalid_interval",
            )
        for name in ("weeks", "days", "hours", "minutes"):
            size = INTERVAL_UNITS[name].total_seconds()
            if seconds % size == 0:
                return _bounded(int(seconds // size), name)
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
    unit = str(unit).strip().lower()
    if not unit.endswith("s"):
        unit += "s"
    if unit not in INTERVAL_UNITS:
        raise field_error(
            "interval",
            _("Unknown interval unit “%(unit)s”; use minutes, hours, days or weeks.")
            % {"unit": unit},
            "invalid_interval",
        )
    if isinstance(every, bool):
        raise _interval_error()
    try:
        number = int(str(every).strip())
    except ValueError:
        raise _interval_error() from None
    return _bounded(number, unit)


def _bounded(number: int, unit: str) -> tuple[int, str]:
    if number <= 0:
        raise field_error("interval", _("The interval must be at least 1."), "invalid_interval")
    if INTERVAL_UNITS[unit] * min(number, MAX_INTERVAL.days * 24 * 60 + 1) > MAX_INTERVAL:
        raise field_error(
            "interval",
            _("The interval must be at most %(days)d days.") % {"days": MAX_INTERVAL.days},
            "invalid_interval",
        )
    return number, unit


def _interval_error() -> ValidationError:
    return field_error(
        "interval",
        _("Give the interval as a positive number and a unit, e.g. “15 minutes”."),
        "invalid_interval",
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
        return self.type != EVENT

    def validate(self, now: dt.datetime, *, check_past: bool = True) -> Schedule:
        """Return a normalized copy, or raise ValidationError with field errors."""
        if self.type not in SCHEDULE_TYPES:
            raise field_error(
                "schedule_type",
                _("Unknown schedule type “%(type)s”; use one of: %(known)s.")
                % {"type": self.type, "known": ", ".join(SCHEDULE_TYPES)},
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
                    % {"when": run_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")},
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
            when = (
                self.run_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")
                if self.run_at
                else "?"
            )
            return _("Once, at %(when)s") % {"when": when}
        if self.type == RECURRING:
            return describe_interval(self.interval_every or 1, self.interval_unit or "minutes")
        return _("On event “%(event)s”") % {"event": self.event}


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
    if parsed.tzinfo is None:
        return resolve_wall_time(parsed, zone)
    return parsed


def describe_interval(every: int, unit: str) -> str:
    """``Every 15 minutes``, ``Every hour``, ``Every 2 weeks``."""
    texts = {
        "minutes": ngettext("Every minute", "Every %(count)d minutes", every),
        "hours": ngettext("Every hour", "Every %(count)d hours", every),
        "days": ngettext("Every day", "Every %(count)d days", every),
        "weeks": ngettext("Every week", "Every %(count)d weeks", every),
    }
    return texts.get(unit, texts["minutes"]) % {"count": every}


def dst_note(instant: dt.datetime, tz: ZoneInfo) -> str:
    """Explain what the DST rule does at ``instant``, or '' on an ordinary day."""
    local = instant.astimezone(tz)
    naive = local.replace(tzinfo=None)
    if is_ambiguous(naive, tz):
        early = naive.replace(tzinfo=tz, fold=0).utcoffset() or dt.timedelta()
        late = naive.replace(tzinfo=tz, fold=1).utcoffset() or dt.timedelta()
        shift = _minutes_text(early - late)
        if local.fold:
            return _(
                "%(time)s occurs twice on this day (clocks go back %(shift)s); this is the "
                "second time."
            ) % {"time": naive.strftime("%H:%M"), "shift": shift}
        return _(
            "%(time)s occurs twice on this day (clocks go back %(shift)s); wall-clock "
            "schedules run once, on the first."
        ) % {"time": naive.strftime("%H:%M"), "shift": shift}
    before = (instant.astimezone(UTC) - dt.timedelta(minutes=1)).astimezone(tz)
    jump = (local.utcoffset() or dt.timedelta()) - (before.utcoffset() or dt.timedelta())
    if jump > dt.timedelta(0):
        gap_start = before.replace(tzinfo=None) + dt.timedelta(minutes=1)
        return _(
            "Clocks go forward from %(start)s to %(end)s here; a run planned in between "
            "runs at %(end)s."
        ) % {"start": gap_start.strftime("%H:%M"), "end": naive.strftime("%H:%M")}
    return ""


def _minutes_text(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        return ngettext("%(count)d hour", "%(count)d hours", minutes // 60) % {
            "count": minutes // 60
        }
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# -- runs with their DST notes ---------------------------------------------------

#: What the DST rule did to a planned run (``PlannedRun.dst``).
DST_MOVED = "moved"  # planned in a spring-forward gap; runs at the first minute after it
DST_FIRST = "first"  # a repeated wall time; wall-clock schedules run on its first occurrence
DST_SECOND = "second"  # the second occurrence of a repeated time (elapsed-time intervals only)
DST_REPEATED = "repeated"  # a repeated wall time run once by an elapsed-time schedule


@dataclass(frozen=True)
class PlannedRun:
    """One upcoming run, with what the DST rule does to it (``dst`` and ``note`` empty if nothing)."""

    at: dt.datetime
    dst: str = ""
    note: str = ""
    moved_from: tuple[dt.datetime, ...] = ()  # naive wall times planned in a gap, run at ``at``


def planned_runs(
    schedule: Schedule, after: dt.datetime, count: int = 5, *, anchor: dt.datetime | None = None
) -> list[PlannedRun]:
    """The next ``count`` runs of ``schedule`` strictly after ``after``, each with its DST note.

    The note says what the scheduler does on a DST change (see the module docstring):
    a wall time in a gap runs at the first valid minute after it; a repeated wall time
    runs once, on its first occurrence (elapsed-time intervals run on both).
    """
    zone = schedule.zone
    wall_clock = schedule.type in (CRON, CONDITIONAL) or (
        schedule.type == RECURRING and (schedule.interval_unit or "minutes") in WALL_CLOCK_UNITS
    )
    start = schedule.run_at or anchor or after
    return [
        _planned(run, schedule, zone, wall_clock, start)
        for run in schedule.runs_after(after, count, anchor=anchor)
    ]


def _planned(
    run: dt.datetime, schedule: Schedule, zone: ZoneInfo, wall_clock: bool, anchor: dt.datetime
) -> PlannedRun:
    local = run.astimezone(zone)
    naive = local.replace(tzinfo=None)
    if is_ambiguous(naive, zone):
        early = naive.replace(tzinfo=zone, fold=0).utcoffset() or dt.timedelta()
        late = naive.replace(tzinfo=zone, fold=1).utcoffset() or dt.timedelta()
        values = {
            "time": naive.strftime("%H:%M"),
            "shift": _minutes_text(early - late),
            "zone": local.tzname(),
        }
        if local.fold:
            return PlannedRun(
                run,
                DST_SECOND,
                _(
                    "%(time)s occurs twice on this day (clocks go back %(shift)s); this is the second "
                    "%(time)s (%(zone)s)."
                )
                % values,
            )
        if wall_clock:
            return PlannedRun(
                run,
                DST_FIRST,
                _(
                    "%(time)s occurs twice on this day (clocks go back %(shift)s); the task runs once, "
                    "at the first %(time)s (%(zone)s)."
                )
                % values,
            )
        return PlannedRun(
            run,
            DST_REPEATED,
            _(
                "%(time)s occurs twice on this day (clocks go back %(shift)s); this is the first "
                "%(time)s (%(zone)s)."
            )
            % values,
        )
    if not wall_clock:
        return PlannedRun(run)
    # Step back on the UTC line: arithmetic on an aware local time stays on the wall clock.
    before = (run.astimezone(UTC) - dt.timedelta(minutes=1)).astimezone(zone)
    if (local.utcoffset() or dt.timedelta()) <= (before.utcoffset() or dt.timedelta()):
        return PlannedRun(run)
    gap_start = before.replace(tzinfo=None) + dt.timedelta(minutes=1)
    moved = tuple(_planned_in_gap(schedule, zone, anchor, gap_start, naive))
    if not moved:
        return PlannedRun(run)  # the schedule asked for this very minute; nothing moved
    times = [m.strftime("%H:%M") for m in moved]
    shown = ", ".join(times[:4]) + (" …" if len(times) > 4 else "")
    values = {"times": shown, "start": gap_start.strftime("%H:%M"), "end": naive.strftime("%H:%M")}
    text = (
        ngettext(
            "%(times)s does not exist on this day (clocks go forward from %(start)s to %(end)s); "
            "the task runs at %(end)s instead.",
            "%(times)s do not exist on this day (clocks go forward from %(start)s to %(end)s); "
            "the task runs once, at %(end)s, instead.",
            len(times),
        )
        % values
    )
    return PlannedRun(run, DST_MOVED, text, moved)


def _planned_in_gap(
    schedule: Schedule,
    zone: ZoneInfo,
    anchor: dt.datetime,
    gap_start: dt.datetime,
    gap_end: dt.datetime,
) -> list[dt.datetime]:
    """The naive wall times in ``[gap_start, gap_end)`` the schedule asked for."""
    if schedule.type in (CRON, CONDITIONAL):
        from croniter import croniter

        found = []
        minute = gap_start
        while minute < gap_end:
            if croniter.match(schedule.cron, minute):
                found.append(minute)
            minute += dt.timedelta(minutes=1)
        return found
    step = INTERVAL_UNITS[schedule.interval_unit] * (schedule.interval_every or 1)
    local_anchor = anchor.astimezone(zone).replace(tzinfo=None)
    k = max(0, -((local_anchor - gap_start) // step))  # first k with anchor + k*step >= gap_start
    candidate = local_anchor + step * k
    return [candidate] if gap_start <= candidate < gap_end else []

"""Runs with their DST notes, for previews: what the scheduler does on a DST change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduler_app.schedules.intervals import INTERVAL_UNITS, WALL_CLOCK_UNITS
from scheduler_app.schedules.schedule import CONDITIONAL, CRON, RECURRING, Schedule
from scheduler_app.schedules.wallclock import UTC, is_ambiguous


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

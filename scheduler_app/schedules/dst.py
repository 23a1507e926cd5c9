"""Runs with their DST notes, for previews: what the scheduler does on a DST change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduler_app.schedules.cron import CronRun, cron_plan
from scheduler_app.schedules.cronspec import compile_cron
from scheduler_app.schedules.intervals import INTERVAL_UNITS, WALL_CLOCK_UNITS
from scheduler_app.schedules.schedule import CONDITIONAL, CRON, RECURRING, Schedule
from scheduler_app.schedules.wallclock import UTC, gap_bounds, is_ambiguous


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
            "%(time)s occurs twice on this day (clocks go back %(shift)s); fixed-time "
            "schedules run once, on the first; every-minute and hourly ones run on both."
        ) % {"time": naive.strftime("%H:%M"), "shift": shift}
    before = (instant.astimezone(UTC) - dt.timedelta(minutes=1)).astimezone(tz)
    jump = (local.utcoffset() or dt.timedelta()) - (before.utcoffset() or dt.timedelta())
    if jump > dt.timedelta(0):
        gap_start = before.replace(tzinfo=None) + dt.timedelta(minutes=1)
        return _(
            "Clocks go forward from %(start)s to %(end)s here; a fixed-time run planned in "
            "between runs at %(end)s, every-minute and hourly runs in between are skipped."
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


DST_SECOND = "second"  # the second occurrence of a repeated time (real-time schedules only)


DST_REPEATED = "repeated"  # the first occurrence of a repeated time, run again at the second


DST_SKIPPED = "skipped"  # real-time cron: matching times in a gap did not exist, not run


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

    The note says what the scheduler does on a DST change (see the package docstring):
    a fixed-time run in a gap runs at the first valid minute after it and a repeated
    one runs once, on its first occurrence; real-time schedules run on both
    occurrences and skip what does not exist.
    """
    zone = schedule.zone
    if schedule.type in (CRON, CONDITIONAL):
        fixed_time = compile_cron(schedule.cron).fixed_time
        return [
            _planned_cron(run, zone, fixed_time)
            for run in cron_plan(schedule.cron, zone, after, count)
        ]
    wall_clock = (
        schedule.type == RECURRING and (schedule.interval_unit or "minutes") in WALL_CLOCK_UNITS
    )
    start = schedule.run_at or anchor or after
    return [
        _planned_interval(run, schedule, zone, wall_clock, start)
        for run in schedule.runs_after(after, count, anchor=anchor)
    ]


def _planned_cron(run: CronRun, zone: ZoneInfo, fixed_time: bool) -> PlannedRun:
    kinds_and_notes = [
        note
        for note in (
            _skipped_note(run.skipped, zone),
            _repeat_note(run.at, zone, fixed_time),
            _moved_note(run.moved_from, run.at, zone),
        )
        if note is not None
    ]
    if not kinds_and_notes:
        return PlannedRun(run.at)
    return PlannedRun(
        run.at,
        kinds_and_notes[0][0],
        " ".join(note for _kind, note in kinds_and_notes),
        tuple(run.moved_from),
    )


def _planned_interval(
    run: dt.datetime, schedule: Schedule, zone: ZoneInfo, wall_clock: bool, anchor: dt.datetime
) -> PlannedRun:
    repeat = _repeat_note(run, zone, wall_clock)
    if repeat is not None:
        return PlannedRun(run, *repeat)
    if not wall_clock:
        return PlannedRun(run)
    local = run.astimezone(zone)
    # Step back on the UTC line: arithmetic on an aware local time stays on the wall clock.
    before = (run.astimezone(UTC) - dt.timedelta(minutes=1)).astimezone(zone)
    if (local.utcoffset() or dt.timedelta()) <= (before.utcoffset() or dt.timedelta()):
        return PlannedRun(run)
    gap_start = before.replace(tzinfo=None) + dt.timedelta(minutes=1)
    naive = local.replace(tzinfo=None)
    moved = _interval_in_gap(schedule, zone, anchor, gap_start, naive)
    note = _moved_note(moved, run, zone)
    return PlannedRun(run, *note, tuple(moved)) if note else PlannedRun(run)


def _repeat_note(run: dt.datetime, zone: ZoneInfo, wall_clock: bool) -> tuple[str, str] | None:
    """What a repeated wall time means for the run at ``run``, if it falls on one."""
    local = run.astimezone(zone)
    naive = local.replace(tzinfo=None)
    if not is_ambiguous(naive, zone):
        return None
    early = naive.replace(tzinfo=zone, fold=0).utcoffset() or dt.timedelta()
    late = naive.replace(tzinfo=zone, fold=1).utcoffset() or dt.timedelta()
    values = {
        "time": naive.strftime("%H:%M"),
        "shift": _minutes_text(early - late),
        "zone": local.tzname(),
    }
    if local.fold:
        return DST_SECOND, _(
            "%(time)s occurs twice on this day (clocks go back %(shift)s); this is the second "
            "%(time)s (%(zone)s)."
        ) % values
    if wall_clock:
        return DST_FIRST, _(
            "%(time)s occurs twice on this day (clocks go back %(shift)s); the task runs once, "
            "at the first %(time)s (%(zone)s)."
        ) % values
    return DST_REPEATED, _(
        "%(time)s occurs twice on this day (clocks go back %(shift)s); this is the first "
        "%(time)s (%(zone)s)."
    ) % values


def _moved_note(
    moved: list[dt.datetime], run: dt.datetime, zone: ZoneInfo
) -> tuple[str, str] | None:
    """The note of a run at the end of a gap that stands for the wall times ``moved``."""
    if not moved:
        return None
    start, end = gap_bounds(moved[0], zone)
    values = {
        "times": _times_text(moved),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }
    text = ngettext(
        "%(times)s does not exist on this day (clocks go forward from %(start)s to %(end)s); "
        "the task runs at %(end)s instead.",
        "%(times)s do not exist on this day (clocks go forward from %(start)s to %(end)s); "
        "the task runs once, at %(end)s, instead.",
        len(moved),
    )
    return DST_MOVED, text % values


def _skipped_note(skipped: list[dt.datetime], zone: ZoneInfo) -> tuple[str, str] | None:
    """The note of the first run after a gap that held matching wall times, not run."""
    if not skipped:
        return None
    start, end = gap_bounds(skipped[0], zone)
    values = {
        "times": _times_text(skipped),
        "day": skipped[0].strftime("%Y-%m-%d"),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }
    text = ngettext(
        "%(times)s did not exist on %(day)s (clocks went forward from %(start)s to %(end)s); "
        "that run was skipped.",
        "%(times)s did not exist on %(day)s (clocks went forward from %(start)s to %(end)s); "
        "those runs were skipped.",
        len(skipped),
    )
    return DST_SKIPPED, text % values


def _times_text(walls: list[dt.datetime]) -> str:
    times = [wall.strftime("%H:%M") for wall in walls]
    return ", ".join(times[:4]) + (" …" if len(times) > 4 else "")


def _interval_in_gap(
    schedule: Schedule,
    zone: ZoneInfo,
    anchor: dt.datetime,
    gap_start: dt.datetime,
    gap_end: dt.datetime,
) -> list[dt.datetime]:
    """The naive wall time in ``[gap_start, gap_end)`` a day/week interval asked for, if any."""
    step = INTERVAL_UNITS[schedule.interval_unit] * (schedule.interval_every or 1)
    local_anchor = anchor.astimezone(zone).replace(tzinfo=None)
    k = max(0, -((local_anchor - gap_start) // step))  # first k with anchor + k*step >= gap_start
    candidate = local_anchor + step * k
    return [candidate] if gap_start <= candidate < gap_end else []

"""Pure schedule maths: validation, next runs, descriptions. No ORM here.

Times are stored in UTC and computed in the task's own zone. Cron reads
expressions as Vixie/Debian cron does (see ``cronspec``). Daylight saving
(DESIGN.md, "Cron semantics and DST"):

* wall-clock schedules -- fixed-time cron jobs (no ``*`` in the minute and
  hour fields) and day/week intervals: a local time that does not exist
  (clocks spring forward) runs at the first valid minute after the gap (02:30
  on a Berlin spring-forward day runs at 03:00); a local time that occurs twice
  (clocks fall back) runs once, on its first occurrence;
* real-time schedules -- every other cron job (``* * * * *``, ``*/15 * * * *``,
  ``0 * * * *``): runs on every real minute whose wall time matches, so twice
  through a repeated hour, and a matching time that does not exist is skipped;
  minute and hour intervals are elapsed time.
"""

from scheduler_app.schedules.cron import (
    CRON_MACROS,
    MAX_CRON_LENGTH,
    CronRun,
    cron_matches,
    cron_plan,
    cron_runs_after,
    describe_cron,
    normalize_cron,
)
from scheduler_app.schedules.dst import (
    DST_FIRST,
    DST_MOVED,
    DST_REPEATED,
    DST_SECOND,
    DST_SKIPPED,
    PlannedRun,
    dst_note,
    planned_runs,
)
from scheduler_app.schedules.fields import (
    ARGUMENTS,
    COLUMNS,
    FIELDS,
    INPUTS,
    TYPE_COLUMNS,
    ScheduleField,
    columns_for,
    form_layout,
    inputs_for,
    renamed,
)
from scheduler_app.schedules.intervals import (
    INTERVAL_UNITS,
    MAX_INTERVAL,
    WALL_CLOCK_UNITS,
    describe_interval,
    interval_runs_after,
    parse_interval,
)
from scheduler_app.schedules.schedule import (
    CONDITIONAL,
    CRON,
    EVENT,
    MAX_EVENT_LENGTH,
    ONE_TIME,
    RECURRING,
    SCHEDULE_TYPES,
    Schedule,
)
from scheduler_app.schedules.wallclock import (
    EARLIEST_RUN_AT,
    LATEST_RUN_AT,
    QUOTE_LIMIT,
    UTC,
    clip,
    field_error,
    gap_bounds,
    get_zone,
    is_ambiguous,
    is_nonexistent,
    repeat_bounds,
    resolve_wall_time,
    run_at_in_range,
    run_at_range_message,
)

__all__ = [
    "ARGUMENTS",
    "EARLIEST_RUN_AT",
    "LATEST_RUN_AT",
    "COLUMNS",
    "FIELDS",
    "INPUTS",
    "TYPE_COLUMNS",
    "ScheduleField",
    "columns_for",
    "form_layout",
    "inputs_for",
    "renamed",
    "CONDITIONAL",
    "CRON",
    "CRON_MACROS",
    "CronRun",
    "DST_FIRST",
    "DST_MOVED",
    "DST_REPEATED",
    "DST_SECOND",
    "DST_SKIPPED",
    "EVENT",
    "INTERVAL_UNITS",
    "MAX_CRON_LENGTH",
    "MAX_EVENT_LENGTH",
    "MAX_INTERVAL",
    "ONE_TIME",
    "PlannedRun",
    "QUOTE_LIMIT",
    "RECURRING",
    "SCHEDULE_TYPES",
    "Schedule",
    "UTC",
    "WALL_CLOCK_UNITS",
    "clip",
    "cron_matches",
    "cron_plan",
    "cron_runs_after",
    "describe_cron",
    "describe_interval",
    "dst_note",
    "field_error",
    "gap_bounds",
    "get_zone",
    "interval_runs_after",
    "is_ambiguous",
    "is_nonexistent",
    "normalize_cron",
    "parse_interval",
    "planned_runs",
    "repeat_bounds",
    "resolve_wall_time",
    "run_at_in_range",
    "run_at_range_message",
]

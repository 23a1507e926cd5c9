"""Pure schedule maths: validation, next runs, descriptions. No ORM here.

Times are stored in UTC and computed in the task's own zone. Daylight-saving
rule, the same for every schedule type that works on the wall clock (cron and
day/week intervals):

* a local time that does not exist (clocks spring forward) runs at the first
  valid minute after the gap (02:30 on a Berlin spring-forward day runs at
  03:00);
* a local time that occurs twice (clocks fall back) runs once, on its first
  occurrence."""

from scheduler_app.schedules.cron import (
    CRON_MACROS,
    cron_runs_after,
    describe_cron,
    normalize_cron,
)
from scheduler_app.schedules.dst import (
    DST_FIRST,
    DST_MOVED,
    DST_REPEATED,
    DST_SECOND,
    PlannedRun,
    dst_note,
    planned_runs,
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
    UTC,
    field_error,
    get_zone,
    is_ambiguous,
    is_nonexistent,
    resolve_wall_time,
)

__all__ = [
    "CONDITIONAL",
    "CRON",
    "CRON_MACROS",
    "DST_FIRST",
    "DST_MOVED",
    "DST_REPEATED",
    "DST_SECOND",
    "EVENT",
    "INTERVAL_UNITS",
    "MAX_EVENT_LENGTH",
    "MAX_INTERVAL",
    "ONE_TIME",
    "PlannedRun",
    "RECURRING",
    "SCHEDULE_TYPES",
    "Schedule",
    "UTC",
    "WALL_CLOCK_UNITS",
    "cron_runs_after",
    "describe_cron",
    "describe_interval",
    "dst_note",
    "field_error",
    "get_zone",
    "interval_runs_after",
    "is_ambiguous",
    "is_nonexistent",
    "normalize_cron",
    "parse_interval",
    "planned_runs",
    "resolve_wall_time",
]

"""The schedule's fields, declared once.

A schedule has one name per field in each place it is kept, and every place
reads its names from here instead of spelling them again:

* ``attribute``: on the :class:`~scheduler_app.schedules.Schedule` value;
* ``column``: on ``ScheduledTask`` (the admin's model form, the audit diff, the
  engine's claimed rows);
* ``argument``: the keyword of ``services.schedule`` / ``services.update``, and
  the key of API bodies and transfer files (the interval's two parts travel
  as one ``interval`` argument);
* ``input``: the field of the scheduling form (the argument, with the interval
  as its two parts).

Pure: no ORM here.
"""

from __future__ import annotations

from dataclasses import dataclass

CRON = "cron"
ONE_TIME = "one_time"
RECURRING = "recurring"
EVENT = "event"
CONDITIONAL = "conditional"
SCHEDULE_TYPES = (CRON, ONE_TIME, RECURRING, EVENT, CONDITIONAL)

#: The argument that carries both interval parts, as ``(every, unit)``.
INTERVAL = "interval"


@dataclass(frozen=True)
class ScheduleField:
    """One field of a schedule, under each of its names."""

    attribute: str
    column: str
    argument: str
    #: The schedule types that read the field; empty: every type.
    used_by: tuple[str, ...] = ()

    @property
    def input(self) -> str:
        """The scheduling form's field: the argument, or the interval part."""
        return self.attribute if self.argument == INTERVAL else self.argument

    def used_for(self, schedule_type: str) -> bool:
        return not self.used_by or schedule_type in self.used_by


FIELDS = (
    ScheduleField("type", "schedule_type", "schedule_type"),
    ScheduleField("cron", "cron_expression", "cron", (CRON, CONDITIONAL)),
    # A one_time run, or the anchor of a recurring schedule.
    ScheduleField("run_at", "run_at", "run_at", (ONE_TIME, RECURRING)),
    ScheduleField("interval_every", "interval_every", INTERVAL, (RECURRING,)),
    ScheduleField("interval_unit", "interval_unit", INTERVAL, (RECURRING,)),
    ScheduleField("event", "event_name", "event", (EVENT,)),
    ScheduleField("timezone", "timezone", "timezone"),
)

#: ScheduledTask columns of a schedule, in form order.
COLUMNS = tuple(f.column for f in FIELDS)
#: Keyword arguments of the services (and keys of API bodies and transfer files).
ARGUMENTS = tuple(dict.fromkeys(f.argument for f in FIELDS))
#: Fields of the scheduling form.
INPUTS = tuple(f.input for f in FIELDS)
#: Columns that depend on the schedule type (the type and the zone are always used).
TYPE_COLUMNS = tuple(f.column for f in FIELDS if f.used_by)


def columns_for(schedule_type: str) -> tuple[str, ...]:
    """The type-dependent columns ``schedule_type`` reads."""
    return tuple(f.column for f in FIELDS if f.used_by and schedule_type in f.used_by)


def inputs_for(schedule_type: str) -> tuple[str, ...]:
    """The type-dependent scheduling form fields ``schedule_type`` reads."""
    return tuple(f.input for f in FIELDS if f.used_by and schedule_type in f.used_by)


def form_layout() -> dict[str, object]:
    """The scheduling form's schedule fields and which each type shows (read by
    ``schedule_form.js`` from the page, so the script repeats none of them)."""
    return {
        "fields": list(INPUTS),
        "optional": [f.input for f in FIELDS if f.used_by],
        "byType": {t: list(inputs_for(t)) for t in SCHEDULE_TYPES},
    }


def renamed(source: str, target: str) -> dict[str, str]:
    """``{name in source vocabulary: name in target}`` where the two differ.

    ``source`` and ``target`` are ``"attribute"``, ``"column"``, ``"argument"``
    or ``"input"``; the first field of a shared argument (the interval) wins,
    so that an error on ``interval`` lands on ``interval_every``.
    """
    mapping: dict[str, str] = {}
    for field in FIELDS:
        old, new = getattr(field, source), getattr(field, target)
        if old != new:
            mapping.setdefault(old, new)
    return mapping

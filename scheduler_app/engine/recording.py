"""Record finished runs: log rows and task state in one transaction, then signals.

Used by the scheduler pass (for a chunk of outcomes) and by the Tasks-framework
worker (for one). A task's state is only written while the recording side
still holds its lease; a run that outlived its lease keeps its log row but
leaves the task to whoever recovered it.

What a body returned was made storable by the runner; should the database
refuse a chunk of log rows all the same, they are written one by one and a
row refused again is recorded as a failed run saying why: one bad row never
costs the others their record.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from scheduler_app import conf
from scheduler_app.conf import SchedulerSettings
from scheduler_app.engine import event_runs, hooks, locks, storable, timing, workflows
from scheduler_app.engine.bulk import update_rows
from scheduler_app.engine.claiming import Lease
from scheduler_app.engine.run_signals import send_run_signals
from scheduler_app.engine.runner import error_text
from scheduler_app.engine.runspec import CONDITION_UNMET, FAILED, TIMEOUT, Outcome
from scheduler_app.engine.settle import LOG_STATUS, TASK_FIELDS, Ending, settle, task_row_values
from scheduler_app.models import ScheduledTask, TaskExecutionLog, TaskStatus

logger = logging.getLogger("scheduler_app.engine")

LOG_FIELDS = (
    "status",
    "started_at",
    "finished_at",
    "duration",
    "result",
    "error_message",
    "traceback",
    "output",
)
OVERLAP_FIELDS = (
    "last_run",
    "last_status",
    "error_message",
    "run_count",
    "failure_streak",
    "updated_at",
)
ERROR_LIMIT, TRACEBACK_LIMIT = storable.MESSAGE_LIMIT, storable.TRACEBACK_LIMIT
# What a database raises for a value it will not store (psycopg: DataError for NUL;
# SQLite: IntegrityError from the JSON_VALID check; encoders: ValueError, TypeError).
REFUSED = (DataError, IntegrityError, ValueError, TypeError, ArithmeticError)


def overlaps(row: dict) -> bool:
    """Overlapping runs allowed: the schedule moves on at claim time, not after the run."""
    return bool(row["allow_overlap"]) and timing.is_repeating(row)


def result_of(outcome: Outcome, row: dict | None = None) -> Any:
    result = outcome.data
    if outcome.message:
        result = (
            {"message": outcome.message, "data": outcome.data}
            if outcome.data is not None
            else {"message": outcome.message}
        )
    if row and row.get("coalesced_slots"):
        # Missed slots this run stood in for (run_once misfire policy), kept beside its result.
        result = {
            "coalesced_slots": row["coalesced_slots"],
            **(result if isinstance(result, dict) else {} if result is None else {"data": result}),
        }
    if row and row.get("skipped_checks"):
        # The checks that found the condition false since the last run, in one number.
        result = {
            "checks_skipped": row["skipped_checks"],
            **(result if isinstance(result, dict) else {"data": result}),
        }
    # The runner made message and data storable; checked again here, cheaply, as the last guard.
    limit = conf.get().RESULT_LIMIT + storable.MESSAGE_LIMIT + 1000
    return storable.json_value(result, limit, copy=False)


def log_row(outcome: Outcome, row: dict | None = None) -> list:
    return [
        outcome.spec.log_id,
        LOG_STATUS[outcome.kind],
        outcome.started_at,
        outcome.finished_at,
        outcome.duration,
        result_of(outcome, row),
        storable.text(outcome.error, ERROR_LIMIT),
        storable.text(outcome.traceback, TRACEBACK_LIMIT),
        storable.text(outcome.output, len(outcome.output) + 1),
    ]


def _ending(o: Outcome) -> Ending:
    return Ending(
        o.kind,
        o.spec.scheduled_for,
        o.started_at,
        error=o.error,
        retry=o.retry,
        retry_delay=o.retry_delay,
        next_run=o.next_run,
        unrunnable=o.unrunnable,
    )


def record(
    outcomes: list[Outcome],
    rows: dict[int, dict],
    lease: Lease,
    settings: SchedulerSettings,
    chains: bool | None = None,
) -> int:
    """Write ``outcomes``; return how many runs had lost their lease.

    A run whose log row the database refuses is recorded as failed instead, and
    replaced in ``outcomes`` by the failed outcome written.

    ``chains`` says whether any workflow edge exists (None: look it up).
    """
    now = timezone.now()
    event_runs.mark_waiting_events(rows, {o.spec.task_id for o in outcomes})
    task_values: dict[int, dict] = {}
    for o in outcomes:
        task_values[o.spec.task_id] = settle(rows[o.spec.task_id], _ending(o), now, settings)
    overlapping = [tid for tid in task_values if overlaps(rows[tid])]
    task_ids = [tid for tid in task_values if tid not in set(overlapping)]
    # A condition that did not hold is a check, not a run: counted on the task, no log row.
    checks = [o.spec.log_id for o in outcomes if o.kind == CONDITION_UNMET]
    with transaction.atomic():
        refused = _write_logs([o for o in outcomes if o.kind != CONDITION_UNMET], rows)
        if refused:
            # The caller reports what was recorded: the stand-ins replace the refused runs.
            outcomes[:] = [refused.get(o.spec.log_id, o) for o in outcomes]
            for o in refused.values():
                task_values[o.spec.task_id] = settle(
                    rows[o.spec.task_id], _ending(o), now, settings
                )
        if checks:
            TaskExecutionLog.objects.filter(pk__in=checks).delete()
        # Only tasks still held under this lease are written (one statement).
        held = update_rows(
            ScheduledTask,
            TASK_FIELDS,
            [task_row_values(tid, task_values[tid]) for tid in task_ids],
            guard={"lease_token": lease.token, "status": TaskStatus.RUNNING},
        )
        update_rows(
            ScheduledTask,
            OVERLAP_FIELDS,
            [[tid, *(task_values[tid][f] for f in OVERLAP_FIELDS)] for tid in overlapping],
        )
        if hooks.runs_failed:
            _report_failed(outcomes, rows, task_values, held | set(overlapping), now)
        if chains if chains is not None else workflows.exist():
            workflows.advance(outcomes, rows, task_values, now)
    lost = len(task_ids) - len(held)
    if lost:
        logger.warning(
            "%d run(s) finished after their lease was taken over; their task state "
            "was left to the new holder.",
            lost,
        )
    locks.release_many(tid for tid in task_ids if not rows[tid]["allow_overlap"])
    lease.claimed_ids.difference_update(task_values)
    send_run_signals(rows, outcomes, task_values)
    return lost


def _report_failed(
    outcomes: list[Outcome],
    rows: dict[int, dict],
    task_values: dict[int, dict],
    written: set[int],
    now: dt.datetime,
) -> None:
    """Hand the failed runs whose task state was written to the ``runs_failed`` hooks."""
    hooks.report_failed(
        [
            hooks.FailedRun.of(
                rows[o.spec.task_id],
                task_values[o.spec.task_id],
                status=LOG_STATUS[o.kind],
                error=o.error,
                run_id=o.spec.run_id,
                slot=o.spec.scheduled_for,
            )
            for o in outcomes
            if o.kind in (FAILED, TIMEOUT) and o.spec.task_id in written
        ],
        now,
    )


def _write_logs(outcomes: list[Outcome], rows: dict[int, dict]) -> dict[int, Outcome]:
    """Update the log rows of ``outcomes``; return the runs recorded as failed instead, by log id.

    One statement for all; if the database refuses it, one savepoint per row,
    so that a refused row fails alone.
    """
    if not outcomes:
        return {}
    try:
        with transaction.atomic():
            update_rows(
                TaskExecutionLog,
                LOG_FIELDS,
                [log_row(o, rows[o.spec.task_id]) for o in outcomes],
            )
        return {}
    except REFUSED as exc:
        logger.warning(
            "The database refused %d log row(s) written together (%s); writing them one by one.",
            len(outcomes),
            _first_line(exc),
        )
    refused: dict[int, Outcome] = {}
    for o in outcomes:
        try:
            with transaction.atomic():
                update_rows(TaskExecutionLog, LOG_FIELDS, [log_row(o, rows[o.spec.task_id])])
        except REFUSED as exc:
            stand_in = Outcome(
                o.spec,
                FAILED,
                o.started_at,
                o.finished_at,
                error=(
                    f"The run's result could not be stored ({_first_line(exc)}); "
                    f"the run itself ended {LOG_STATUS[o.kind]}."
                ),
                # Its body ran: running it again would repeat what it did.
                retry=False,
            )
            logger.error("Run %s of task %s: %s", o.spec.run_id, o.spec.task_id, stand_in.error)
            # No savepoint: a database that refuses this row too has a problem of its own.
            update_rows(TaskExecutionLog, LOG_FIELDS, [log_row(stand_in)])
            refused[o.spec.log_id] = stand_in
    return refused


def _first_line(exc: BaseException) -> str:
    lines = error_text(exc).strip().splitlines()
    return storable.text(lines[0] if lines else type(exc).__name__, 300)

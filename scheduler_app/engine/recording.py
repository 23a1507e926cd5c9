"""Record finished runs: log rows and task state in one transaction, then signals.

Used by the scheduler pass (for a chunk of outcomes) and by the Tasks-framework
worker (for one). A task's state is only written while the recording side
still holds its lease; a run that outlived its lease keeps its log row but
leaves the task to whoever recovered it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from scheduler_app.conf import SchedulerSettings
from scheduler_app.engine import events, locks, timing
from scheduler_app.engine.bulk import update_rows
from scheduler_app.engine.claiming import Lease
from scheduler_app.engine.runspec import CONDITION_UNMET, SUCCESS, Outcome
from scheduler_app.engine.settle import LOG_STATUS, TASK_FIELDS, Ending, settle, task_row_values
from scheduler_app.engine.signalling import send_run_signals
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
ERROR_LIMIT, TRACEBACK_LIMIT = 10_000, 50_000


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
    return _jsonable(result)


def log_row(outcome: Outcome, row: dict | None = None) -> list:
    return [
        outcome.spec.log_id,
        LOG_STATUS[outcome.kind],
        outcome.started_at,
        outcome.finished_at,
        outcome.duration,
        result_of(outcome, row),
        outcome.error[:ERROR_LIMIT],
        outcome.traceback[:TRACEBACK_LIMIT],
        outcome.output,
    ]


def record(
    outcomes: list[Outcome],
    rows: dict[int, dict],
    lease: Lease,
    settings: SchedulerSettings,
    chains: bool | None = None,
) -> int:
    """Write ``outcomes``; return how many runs had lost their lease.

    ``chains`` says whether any on_success chain exists (None: look it up).
    """
    now = timezone.now()
    events.mark_waiting_events(rows, {o.spec.task_id for o in outcomes})
    task_values: dict[int, dict] = {}
    for o in outcomes:
        ending = Ending(
            o.kind,
            o.spec.scheduled_for,
            o.started_at,
            error=o.error,
            retry=o.retry,
            retry_delay=o.retry_delay,
            next_run=o.next_run,
            unrunnable=o.unrunnable,
        )
        task_values[o.spec.task_id] = settle(rows[o.spec.task_id], ending, now, settings)
    overlapping = [tid for tid in task_values if overlaps(rows[tid])]
    task_ids = [tid for tid in task_values if tid not in set(overlapping)]
    # A condition that did not hold is a check, not a run: counted on the task, no log row.
    checks = [o.spec.log_id for o in outcomes if o.kind == CONDITION_UNMET]
    with transaction.atomic():
        update_rows(
            TaskExecutionLog,
            LOG_FIELDS,
            [log_row(o, rows[o.spec.task_id]) for o in outcomes if o.kind != CONDITION_UNMET],
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
        if chains if chains is not None else events.chains_exist():
            events.trigger_chains([o.spec.task_id for o in outcomes if o.kind == SUCCESS], now)
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


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))

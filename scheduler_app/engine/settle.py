"""Turn how a run ended into the task's next state: retries, backoff, next slot.

Pure functions over the claimed row (a dict); the pass writes the result in bulk.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from scheduler_app.conf import SchedulerSettings
from scheduler_app.engine import timing
from scheduler_app.engine.runspec import (
    CANCELLED,
    CONDITION_UNMET,
    FAILED,
    PENDING,
    SKIPPED,
    SUCCESS,
    TIMEOUT,
)
from scheduler_app.models import MisfirePolicy, RunStatus, ScheduleType, TaskStatus, lifecycle

ABANDONED = "abandoned"
ERROR_LIMIT = 4000

LOG_STATUS = {
    SUCCESS: RunStatus.SUCCESS,
    FAILED: RunStatus.FAILED,
    TIMEOUT: RunStatus.TIMEOUT,
    SKIPPED: RunStatus.SKIPPED,
    PENDING: RunStatus.SKIPPED,
    CONDITION_UNMET: RunStatus.SKIPPED,
    ABANDONED: RunStatus.ABANDONED,
    CANCELLED: RunStatus.CANCELLED,
}
FAILURES = (FAILED, TIMEOUT, ABANDONED)

# Columns the pass writes back after a run, in this order.
TASK_FIELDS = (
    "status",
    "next_run",
    "occurrence_at",
    "retry_count",
    "last_run",
    "last_status",
    "error_message",
    "run_count",
    "failure_streak",
    "lease_owner",
    "lease_token",
    "lease_expires_at",
    "event_payload",
    "updated_at",
    "skipped_checks",
    "last_checked_at",
    "run_requested",
)


@dataclass(frozen=True)
class Ending:
    """What happened to one claimed occurrence, as the pass saw it."""

    kind: str
    slot: dt.datetime
    started_at: dt.datetime
    error: str = ""
    retry: bool = True
    retry_delay: float | None = None
    next_run: dt.datetime | None = None
    unrunnable: bool = False


def _following(row: dict, slot: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    if row["misfire_policy"] == MisfirePolicy.RUN_ALL:
        return timing.next_slot(row, slot)
    return timing.next_slot(row, max(now, slot))


def _after_occurrence(row: dict, slot: dt.datetime, now: dt.datetime, final_status: str) -> dict:
    """Where a task goes once an occurrence is over (succeeded or failed for good)."""
    if timing.is_repeating(row):
        upcoming = _following(row, slot, now)
        return {
            "status": lifecycle.after_run(TaskStatus.PENDING),
            "next_run": upcoming,
            "occurrence_at": upcoming,
        }
    if row["schedule_type"] == ScheduleType.EVENT:
        # Events emitted while this one ran are waiting: run the next one straight away.
        again = now if row.get("has_more_events") else None
        return {
            "status": lifecycle.after_run(TaskStatus.PENDING),
            "next_run": again,
            "occurrence_at": again,
        }
    return {"status": lifecycle.after_run(final_status), "next_run": None, "occurrence_at": None}


def settle(
    row: dict,
    ending: Ending,
    now: dt.datetime,
    settings: SchedulerSettings,
    rng: random.Random | None = None,
) -> dict:
    """The task's new column values after ``ending`` (see TASK_FIELDS)."""
    kind = ending.kind
    values = {
        "lease_owner": "",
        "lease_token": "",
        "lease_expires_at": None,
        "event_payload": None,
        "last_run": ending.started_at,
        "last_status": LOG_STATUS[kind],
        "updated_at": now,
        "run_count": row["run_count"] + (0 if kind == CONDITION_UNMET else 1),
        "retry_count": 0,
        "failure_streak": row["failure_streak"],
        "error_message": "",
        "skipped_checks": 0,
        "run_requested": False,
        "last_checked_at": now
        if row["schedule_type"] == ScheduleType.CONDITIONAL
        else row["last_checked_at"],
    }
    if kind in FAILURES:
        values["failure_streak"] += 1
        values["error_message"] = (ending.error or "The run failed.")[:ERROR_LIMIT]
        if ending.unrunnable:
            # A row that cannot run fails for good, whatever its schedule: no failure every slot.
            values.update(
                status=lifecycle.after_run(TaskStatus.FAILED), next_run=None, occurrence_at=None
            )
            return values
        can_retry = (
            ending.retry and row["retry_count"] < row["max_retries"] and not row["allow_overlap"]
        )
        if can_retry:
            delay = ending.retry_delay
            if delay is None:
                delay = timing.backoff(
                    row["retry_count"],
                    settings.RETRY_BACKOFF_BASE,
                    settings.RETRY_BACKOFF_MAX,
                    settings.RETRY_JITTER,
                    rng,
                )
            values.update(
                status=lifecycle.after_run(TaskStatus.PENDING),
                next_run=now + dt.timedelta(seconds=delay),
                occurrence_at=ending.slot,
                retry_count=row["retry_count"] + 1,
                event_payload=row["event_payload"],  # a retried event keeps its payload
                run_requested=row["run_requested"],
            )
            return values
        values.update(_after_occurrence(row, ending.slot, now, TaskStatus.FAILED))
        return values
    if kind == PENDING:
        later = ending.next_run
        if later is None or later <= now:
            later = now + dt.timedelta(
                seconds=timing.backoff(
                    row["retry_count"],
                    settings.RETRY_BACKOFF_BASE,
                    settings.RETRY_BACKOFF_MAX,
                    settings.RETRY_JITTER,
                    rng,
                )
            )
        # "Not ready yet" is a new occurrence at the later time, not a failed attempt.
        values.update(
            status=lifecycle.after_run(TaskStatus.PENDING), next_run=later, occurrence_at=later
        )
        return values
    if kind == CANCELLED:
        # Stopped by a person: not a failure to retry; the schedule goes on.
        values["error_message"] = ending.error[:ERROR_LIMIT]
    if kind == SUCCESS:
        values["failure_streak"] = 0
    if kind == CONDITION_UNMET:
        # An unmet condition is a check, not a run: the last run stays what it was.
        values.update(
            last_run=row["last_run"],
            last_status=row["last_status"],
            error_message=row["error_message"],
            skipped_checks=row["skipped_checks"] + 1,
        )
    values.update(_after_occurrence(row, ending.slot, now, TaskStatus.SUCCESS))
    return values


def task_row_values(task_id: int, values: dict) -> list:
    return [task_id, *(values[name] for name in TASK_FIELDS)]

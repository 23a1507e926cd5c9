"""Turn claimed rows into run log rows and RunSpecs: what runs now, what is skipped.

Runs inside the claim's transaction. The misfire policy and the slot filters
(calendars, pause windows) decide per row; one bulk insert records every log
row, and the unique occurrence key keeps an occurrence from being run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from scheduler_app.conf import SchedulerSettings
from scheduler_app.engine import event_runs, hooks, identity, misfire, recording, timing
from scheduler_app.engine.bulk import insert_rows
from scheduler_app.engine.runspec import RunSpec
from scheduler_app.engine.settle import Ending, settle, task_row_values
from scheduler_app.models import (
    RunStatus,
    ScheduleType,
    TaskExecutionLog,
    TaskStatus,
    lifecycle,
)

logger = logging.getLogger("scheduler_app.engine")

NEW_LOG_FIELDS = (
    "task_id",
    "run_id",
    "scheduled_for",
    "attempt",
    "status",
    "started_at",
    "finished_at",
    "duration",
    "result",
    "error_message",
    "traceback",
    "output",
    "host",
    "pid",
    "triggered_by",
)


@dataclass
class Plan:
    """The claimed rows sorted out: runs to execute, task rows to write, rows skipped."""

    specs: list[RunSpec] = field(default_factory=list)
    task_rows: list[list] = field(default_factory=list)  # task values to write in the claim
    skipped: list[tuple[dict, str]] = field(default_factory=list)  # (row, reason) not run


def plan_claimed(rows: list[dict], now: dt.datetime, settings: SchedulerSettings) -> Plan:
    """Insert a log row per claimed row and decide which of them run."""
    s = settings
    logs: list[dict] = []
    planned: list[tuple[dict, misfire.Plan]] = []
    host, pid = identity.host(), identity.pid()
    event_runs.take_events(rows)
    # A run someone asked for is not held back by calendars or pause windows.
    scheduled = [row for row in rows if not row["run_requested"]]
    blocked = hooks.blocked(scheduled, now) if hooks.slot_filters and scheduled else {}
    for row in rows:
        p = misfire.plan(row, now, s.MISFIRE_GRACE, s.MISFIRE_RUN_ALL_CAP)
        if row["id"] in blocked and p.run_slot is not None:
            p = misfire.Plan(None, skipped=1, reason=blocked[row["id"]])
        planned.append((row, p))
        row["coalesced_slots"] = p.coalesced
        slot = p.run_slot or row["occurrence_at"] or row["next_run"]
        log = {
            "task_id": row["id"],
            "run_id": uuid.uuid4().hex,
            "scheduled_for": slot,
            "attempt": row["retry_count"] + 1,
            "status": RunStatus.RUNNING,
            "started_at": now,
            "finished_at": None,
            "duration": None,
            "result": {"coalesced_slots": p.coalesced} if p.coalesced else None,
            "error_message": "",
            "traceback": "",
            "output": "",
            "host": host,
            "pid": pid,
            "triggered_by": "request" if row["run_requested"] else "scheduler",
        }
        if p.run_slot is None:
            log.update(
                attempt=1,
                status=RunStatus.SKIPPED,
                finished_at=now,
                duration=0.0,
                result={"skipped_slots": p.skipped},
                error_message=p.reason,
            )
        logs.append(log)
    insert_logs(logs)
    plan = Plan()
    for (row, p), log in zip(planned, logs, strict=True):
        if log["pk"] is None:
            plan.task_rows.append(_skip_values(row, p, now, s, duplicate=True))
            continue
        if p.run_slot is None:
            plan.task_rows.append(_skip_values(row, p, now, s))
            plan.skipped.append((row, p.reason))
            continue
        if recording.overlaps(row):
            # Overlapping runs allowed: the next slot is claimable while this one runs.
            values = settle(row, Ending("success", p.run_slot, now), now, s)
            values.update(
                last_run=row["last_run"],
                last_status=row["last_status"],
                error_message=row["error_message"],
                run_count=row["run_count"],
                failure_streak=row["failure_streak"],
            )
            plan.task_rows.append(task_row_values(row["id"], values))
        plan.specs.append(
            RunSpec(
                log_id=log["pk"],
                task_id=row["id"],
                module_id=row["module_id"],
                task_type=row["task_type"],
                name=row["name"],
                config=row["config"] or {},
                scheduled_for=log["scheduled_for"],
                attempt=log["attempt"],
                run_id=log["run_id"],
                owner_id=row["owner_id"],
                timezone=row["timezone"],
                timeout=row["timeout"],
                schedule_type=row["schedule_type"],
                payload=row["event_payload"] or {},
            )
        )
    return plan


def _skip_values(
    row: dict,
    p: misfire.Plan,
    now: dt.datetime,
    settings: SchedulerSettings,
    duplicate: bool = False,
) -> list:
    slot = row["occurrence_at"] or row["next_run"]
    upcoming = p.resume_at if p.resume_at is not None else timing.next_slot(row, max(now, slot))
    values = settle(row, Ending("skipped", slot, now), now, settings)
    if timing.is_repeating(row):
        values.update(next_run=upcoming, occurrence_at=upcoming)
    elif row["schedule_type"] == ScheduleType.ONE_TIME and not duplicate:
        # A one-time task whose only run was skipped (too late, blacked out) never ran.
        values.update(status=lifecycle.after_run(TaskStatus.FAILED), error_message=p.reason[:4000])
    if duplicate:
        values["error_message"] = "This occurrence was already recorded; not run again."
    return task_row_values(row["id"], values)


def insert_logs(logs: list[dict]) -> None:
    """Insert the log rows, setting ``log["pk"]``; None where the occurrence already had one."""
    fields = tuple(NEW_LOG_FIELDS)
    try:
        with transaction.atomic():
            pks = insert_rows(
                TaskExecutionLog,
                fields,
                [[log[f] for f in fields] for log in logs],
                key="run_id",
            )
    except IntegrityError:
        # Someone already recorded one of these occurrences: insert one by one.
        pks = {}
        for log in logs:
            try:
                with transaction.atomic():
                    pks.update(
                        insert_rows(
                            TaskExecutionLog, fields, [[log[f] for f in fields]], key="run_id"
                        )
                    )
            except IntegrityError as exc:
                if not _is_unique_violation(exc):
                    raise
        logger.warning(
            "%d occurrence(s) were already recorded; not run twice.", len(logs) - len(pks)
        )
    for log in logs:
        log["pk"] = pks.get(log["run_id"])


def _is_unique_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return type(cause).__name__ == "UniqueViolation" or "UNIQUE constraint failed" in str(exc)

"""Close the runs of schedulers that died (their lease expired) as abandoned, and retry them."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from scheduler_app.conf import SchedulerSettings
from scheduler_app.engine import claiming, hooks, locks
from scheduler_app.engine.bulk import update_rows
from scheduler_app.engine.recording import LOG_FIELDS
from scheduler_app.engine.settle import ABANDONED, TASK_FIELDS, Ending, settle, task_row_values
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog

logger = logging.getLogger("scheduler_app.engine")


def recover_expired(settings: SchedulerSettings) -> int:
    """Close up to a batch of abandoned runs; the number of tasks recovered."""
    now = timezone.now()
    if not claiming.any_expired(now):
        return 0
    with transaction.atomic():
        rows = claiming.expired_rows(now, settings.BATCH_SIZE)
        if not rows:
            return 0
        open_logs = claiming.open_logs_of([r["id"] for r in rows])
        log_rows, task_rows, failed = [], [], []
        for row in rows:
            log = open_logs.get(row["id"])
            error = (
                f"The scheduler holding this run ({row['lease_token'][:8]}) stopped "
                "renewing its lease; the run was abandoned."
            )
            slot = log["scheduled_for"] if log else (row["occurrence_at"] or row["next_run"] or now)
            if log:
                started = log["started_at"]
                log_rows.append(
                    [
                        log["id"],
                        RunStatus.ABANDONED,
                        started,
                        now,
                        (now - started).total_seconds(),
                        None,
                        error,
                        "",
                        "",
                    ]
                )
            ending = Ending(ABANDONED, slot, log["started_at"] if log else now, error=error)
            values = settle(row, ending, now, settings)
            task_rows.append(task_row_values(row["id"], values))
            run_id = log["run_id"] if log else ""
            failed.append((row, values, error, run_id, slot))
        update_rows(TaskExecutionLog, LOG_FIELDS, log_rows)
        # Compare-and-set on the old token: a row renewed meanwhile is left alone.
        tokens = {r["id"]: r["lease_token"] for r in rows}
        still = set(
            ScheduledTask.objects.filter(
                pk__in=list(tokens), status="running", lease_expires_at__lt=now
            ).values_list("pk", flat=True)
        )
        update_rows(ScheduledTask, TASK_FIELDS, [r for r in task_rows if r[0] in still])
        if hooks.runs_failed:  # e.g. the alert for an abandoned run, committed with it
            hooks.report_failed(
                [
                    hooks.FailedRun.of(
                        row, values, status=ABANDONED, error=error, run_id=run_id, slot=slot
                    )
                    for row, values, error, run_id, slot in failed
                    if row["id"] in still
                ],
                now,
            )
    # Their holder is gone: its overlap locks must not block the retries.
    locks.release_many(still)
    if still:
        logger.warning("Recovered %d task(s) abandoned by a stopped scheduler.", len(still))
    return len(still)

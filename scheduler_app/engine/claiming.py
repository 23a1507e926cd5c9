"""Claim due tasks atomically with a lease; renew, release and recover leases.

PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks rows no other
scheduler holds. Every backend then flips them with a compare-and-set UPDATE
(``status = pending``) and keeps only the rows it actually changed, so on
SQLite (which serialises writers and ignores row locks) two schedulers can
never both win a row. The execution log's unique (task, slot, attempt) is the
last line of defence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from scheduler_app.models import (
    RunStatus,
    ScheduledTask,
    ScheduledTaskQuerySet,
    TaskExecutionLog,
    TaskStatus,
    lifecycle,
)

# Log rows of runs not yet over: executing, or waiting in a Tasks-framework queue.
OPEN_STATUSES = (RunStatus.RUNNING, RunStatus.ENQUEUED)

CLAIM_FIELDS = (
    "id",
    "module_id",
    "task_type",
    "name",
    "config",
    "owner_id",
    "timezone",
    "timeout",
    "max_retries",
    "retry_count",
    "next_run",
    "occurrence_at",
    "schedule_type",
    "cron_expression",
    "run_at",
    "interval_every",
    "interval_unit",
    "event_name",
    "misfire_policy",
    "misfire_grace",
    "allow_overlap",
    "event_payload",
    "created_at",
    "run_count",
    "failure_streak",
    "last_run",
    "last_status",
    "error_message",
    "skipped_checks",
    "last_checked_at",
    "run_requested",
)


@dataclass
class Filters:
    module: str | None = None
    tags: tuple[str, ...] = ()
    task_ids: tuple[int, ...] = ()

    def apply(self, qs: ScheduledTaskQuerySet) -> ScheduledTaskQuerySet:
        if self.module:
            qs = qs.filter(module_id=self.module)
        for tag in self.tags:
            qs = qs.with_tag(tag)
        if self.task_ids:
            qs = qs.filter(pk__in=self.task_ids)
        return qs


@dataclass
class Lease:
    token: str
    holder: str
    seconds: int
    claimed_ids: set[int] = field(default_factory=set)


def select_due(now: dt.datetime, limit: int, filters: Filters) -> list[dict]:
    """Lock and read up to ``limit`` due rows (call inside a transaction)."""
    qs = filters.apply(ScheduledTask.objects.due(now))
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs.values(*CLAIM_FIELDS)[:limit])


def take(rows: list[dict], lease: Lease, now: dt.datetime) -> list[dict]:
    """Compare-and-set the rows to running under ``lease``; return the rows won."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    changed = lifecycle.move(
        ScheduledTask.objects.filter(pk__in=ids),
        TaskStatus.PENDING,
        TaskStatus.RUNNING,
        lease_owner=lease.holder,
        lease_token=lease.token,
        lease_expires_at=now + dt.timedelta(seconds=lease.seconds),
    )
    if changed != len(ids):
        won = set(
            ScheduledTask.objects.filter(
                pk__in=ids, lease_token=lease.token, status=TaskStatus.RUNNING
            ).values_list("pk", flat=True)
        )
        rows = [row for row in rows if row["id"] in won]
    lease.claimed_ids.update(row["id"] for row in rows)
    return rows


def renew(lease: Lease, now: dt.datetime) -> int:
    """Push the lease of every task still held under ``lease`` forward (one UPDATE)."""
    if not lease.claimed_ids:
        return 0
    return ScheduledTask.objects.filter(lease_token=lease.token, status=TaskStatus.RUNNING).update(
        lease_expires_at=now + dt.timedelta(seconds=lease.seconds)
    )


def release(lease: Lease, task_ids: list[int], log_ids: list[int]) -> None:
    """Give back claimed tasks that were never started (shutdown, lock held elsewhere)."""
    with transaction.atomic():
        TaskExecutionLog.objects.filter(pk__in=log_ids, status=RunStatus.RUNNING).delete()
        lifecycle.move(
            ScheduledTask.objects.filter(pk__in=task_ids, lease_token=lease.token),
            TaskStatus.RUNNING,
            TaskStatus.PENDING,
            lease_owner="",
            lease_token="",
            lease_expires_at=None,
        )
    lease.claimed_ids.difference_update(task_ids)


def expired_rows(now: dt.datetime, limit: int) -> list[dict]:
    """Running tasks whose scheduler stopped renewing the lease (call inside a transaction)."""
    qs = ScheduledTask.objects.lease_expired(now).order_by("lease_expires_at")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs.values(*CLAIM_FIELDS, "lease_token")[:limit])


def open_logs_of(task_ids: list[int]) -> dict[int, Any]:
    rows = TaskExecutionLog.objects.filter(task_id__in=task_ids, status__in=OPEN_STATUSES).values(
        "id", "task_id", "run_id", "started_at", "attempt", "scheduled_for"
    )
    return {row["task_id"]: row for row in rows}

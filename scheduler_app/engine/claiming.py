"""Claim due tasks atomically with a lease; renew, release and recover leases.

A claim is one statement: ``UPDATE ... SET status = 'running', lease ...
WHERE id IN (due rows, LIMIT n) AND status = 'pending' RETURNING ...``. On
PostgreSQL the subquery says ``FOR UPDATE SKIP LOCKED``, so concurrent
schedulers pick disjoint rows without waiting; SQLite (3.35+) runs the
statement as one serialised write. Either way the ``status = 'pending'``
compare-and-set keeps a row from being won twice, and RETURNING hands back
exactly the rows won. Other backends select, then compare-and-set. The
execution log's unique (task, slot, attempt) is the last line of defence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction

from scheduler_app import schedules
from scheduler_app.models import (
    RunStatus,
    ScheduledTask,
    ScheduledTaskQuerySet,
    TaskExecutionLog,
    TaskStatus,
    lifecycle,
    sql,
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
    "timeout",
    "max_retries",
    "retry_count",
    "next_run",
    "occurrence_at",
    *schedules.COLUMNS,
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


# RETURNING on UPDATE: PostgreSQL, and SQLite since 3.35.
_RETURNING_VENDORS = ("postgresql", "sqlite")


def claim_due(
    due_at: dt.datetime,
    limit: int,
    filters: Filters,
    lease: Lease,
    now: dt.datetime,
    exclude: Collection[int] = (),
) -> list[dict]:
    """Claim up to ``limit`` due tasks under ``lease``; the rows won, in claim order.

    Call inside a transaction. ``exclude``: task ids this pass gave back and must not take again.
    """
    qs = filters.apply(ScheduledTask.objects.due(due_at))
    if exclude:
        qs = qs.exclude(pk__in=list(exclude))
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    if connection.vendor not in _RETURNING_VENDORS:
        return take(list(qs.values(*CLAIM_FIELDS)[:limit]), lease, now)
    rows = _update_returning(qs.values("pk")[:limit], lease, now)
    rows.sort(key=lambda row: (row["priority"], row["next_run"], row["id"]))
    lease.claimed_ids.update(row["id"] for row in rows)
    return rows


def _field(name: str) -> models.Field:
    field = ScheduledTask._meta.get_field(name)
    assert isinstance(field, models.Field)  # a concrete column, not a relation's reverse side
    return field


def _update_returning(subquery: Any, lease: Lease, now: dt.datetime) -> list[dict]:
    meta = ScheduledTask._meta
    qn = connection.ops.quote_name
    returned = [_field(name) for name in (*CLAIM_FIELDS, "priority")]
    # The statement's own compare-and-set (``status = pending`` below) asks the same table.
    assigned = {
        "status": lifecycle.checked(TaskStatus.PENDING, TaskStatus.RUNNING),
        "lease_owner": lease.holder,
        "lease_token": lease.token,
        "lease_expires_at": now + dt.timedelta(seconds=lease.seconds),
    }
    assignments = ", ".join(f"{qn(_field(name).column or name)} = %s" for name in assigned)
    values = [_field(name).get_db_prep_value(v, connection) for name, v in assigned.items()]
    sub_sql, sub_params = subquery.query.sql_with_params()
    table, pk, status = (
        qn(meta.db_table),
        qn(_field("id").column or "id"),
        qn(_field("status").column or "status"),
    )
    columns = ", ".join(f"{table}.{qn(f.column or f.name)}" for f in returned)
    if connection.vendor == "postgresql":
        # A materialised CTE runs the locking subquery exactly once. Inside ``IN (...)``
        # the planner may rescan it, and a rescan skips the rows this statement has
        # just updated and takes the next ones: more than ``limit`` rows.
        statement = (
            f"WITH due AS MATERIALIZED ({sub_sql}) UPDATE {table} SET {assignments} FROM due "
            f"WHERE {table}.{pk} = due.pk AND {table}.{status} = %s RETURNING {columns}"
        )
        params = [*sub_params, *values, TaskStatus.PENDING]
    else:
        statement = (
            f"UPDATE {table} SET {assignments} WHERE {pk} IN ({sub_sql}) AND {status} = %s "
            f"RETURNING {columns}"
        )
        params = [*values, *sub_params, TaskStatus.PENDING]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        fetched = cursor.fetchall()
    converters = [_converters(field) for field in returned]
    names = [field.attname for field in returned]
    rows = []
    for raw in fetched:
        row = {}
        for name, value, (convert, col) in zip(names, raw, converters, strict=True):
            for fn in convert:
                value = fn(value, col, connection)
            row[name] = value
        rows.append(row)
    return rows


def _converters(field: Any) -> tuple[list, Any]:
    """What Django applies to a column's raw value (JSON, datetimes on SQLite, ...)."""
    col = field.get_col(field.model._meta.db_table)
    return [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)], col


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


def any_expired(now: dt.datetime) -> bool:
    """Is a lease expired? (``lease_expired`` written out: asked at the start of every pass,
    and almost always no, it skips the locking transaction and the ORM's building.)"""
    column = sql.columns(ScheduledTask, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {sql.table(ScheduledTask, connection)} "
            f"WHERE {column['status']} = %s AND {column['lease_expires_at']} < %s LIMIT 1",
            [TaskStatus.RUNNING, connection.ops.adapt_datetimefield_value(now)],
        )
        return cursor.fetchone() is not None


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

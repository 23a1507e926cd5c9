"""Event occurrences: what makes an EVENT task due.

``services.emit`` stores one PendingEvent per listening task; each becomes one
run, in the order fired. Tasks started by other tasks (workflow edges, the
on_success chains among them) are made due by ``engine.workflows``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scheduler_app.engine.bulk import update_rows
from scheduler_app.models import PendingEvent, ScheduledTask, ScheduleType, WorkflowEdge


def take_events(rows: list[dict]) -> None:
    """Give each EVENT row starting a new occurrence its oldest waiting event (in place)."""
    fresh = [r for r in rows if r["schedule_type"] == ScheduleType.EVENT and r["retry_count"] == 0]
    if not fresh:
        return
    first: dict[int, Any] = {}
    for event in (
        PendingEvent.objects.filter(task_id__in=[r["id"] for r in fresh])
        .order_by("task_id", "fired_at", "pk")
        .values("id", "task_id", "payload", "fired_at")
    ):
        first.setdefault(event["task_id"], event)
    for row in fresh:
        waiting = first.get(row["id"])
        if waiting is not None:
            row["occurrence_at"] = waiting["fired_at"]
            row["event_payload"] = waiting["payload"]
    if first:
        PendingEvent.objects.filter(pk__in=[e["id"] for e in first.values()]).delete()
        # Kept on the task so a retry of this occurrence gets the same payload.
        update_rows(
            ScheduledTask,
            ("event_payload",),
            [[r["id"], r["event_payload"]] for r in fresh if r["id"] in first],
        )


def mark_waiting_events(rows: dict[int, dict], task_ids: Iterable[int]) -> None:
    """Flag rows whose task still has events waiting (``has_more_events``)."""
    event_ids = [tid for tid in task_ids if rows[tid]["schedule_type"] == ScheduleType.EVENT]
    if not event_ids:
        return
    waiting = set(
        PendingEvent.objects.filter(task_id__in=event_ids).values_list("task_id", flat=True)
    )
    for tid in event_ids:
        rows[tid]["has_more_events"] = tid in waiting


def chains_exist() -> bool:
    """Whether any workflow edge exists (a pass asks once, not per run)."""
    return WorkflowEdge.objects.exists()

"""Export of schedules as a JSON-ready dict (see :mod:`scheduler_app.services.transfer`).

Secrets are masked; the blackout calendars the tasks use travel with them.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from scheduler_app import configs, policy
from scheduler_app.models import BlackoutCalendar, ScheduledTask, TaskStatus
from scheduler_app.services import transfer_edges
from scheduler_app.services.transfer_schema import FORMAT, VERSION

#: Finished or cancelled tasks have no schedule to move.
EXPORTED_STATUSES = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.PAUSED)


def task_entry(task: ScheduledTask) -> dict[str, Any]:
    """One task as exported: stable keys only, secrets masked."""
    return {
        "module": task.module_id,
        "task_type": task.task_type,
        "name": task.name,
        "config": configs.masked_config(task),
        "schedule_type": task.schedule_type,
        "cron": task.cron_expression or "",
        "run_at": task.run_at.isoformat() if task.run_at else None,
        "interval": [task.interval_every, task.interval_unit] if task.interval_every else None,
        "event": task.event_name or "",
        "timezone": task.timezone,
        "priority": task.priority,
        "max_retries": task.max_retries,
        "timeout": task.timeout,
        "allow_overlap": task.allow_overlap,
        "misfire_policy": task.misfire_policy,
        "misfire_grace": task.misfire_grace,
        "tags": list(task.tags or []),
        "enabled": task.enabled,
        "paused": task.status == TaskStatus.PAUSED,
        "calendars": sorted(c.name for c in task.calendars.all()),
        "owner": task.owner.get_username() if task.owner is not None else None,
        "edges": transfer_edges.entry_edges(task),
    }


def _calendar_entry(calendar: BlackoutCalendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "description": calendar.description,
        "timezone": calendar.timezone,
        "periods": [
            {
                "label": p.label,
                "start_date": p.start_date.isoformat(),
                "end_date": p.end_date.isoformat(),
                "start_time": p.start_time.isoformat() if p.start_time else None,
                "end_time": p.end_time.isoformat() if p.end_time else None,
            }
            for p in calendar.periods.all()
        ],
    }


def export_schedules(
    *,
    user: Any,
    module: str | None = None,
    tags: tuple[str, ...] = (),
    task_ids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """The tasks ``user`` may see (all for the system), filtered, as a JSON-ready dict."""
    qs: Any = ScheduledTask.objects.filter(status__in=EXPORTED_STATUSES, is_system=False)
    if user is not None:
        qs = policy.viewable_queryset(user, qs)
    if module:
        qs = qs.filter(module_id=module)
    for tag in tags:
        qs = qs.with_tag(tag)
    if task_ids:
        # An id no 64-bit column holds names no task (and would overflow SQLite's binding).
        qs = qs.filter(pk__in=[pk for pk in task_ids if 0 < pk < 2**63])
    tasks = list(
        qs.select_related("owner")
        .prefetch_related("calendars", "outgoing_edges__target")
        .order_by("module_id", "task_type", "name", "pk")
    )
    used = {c.pk: c for t in tasks for c in t.calendars.all()}
    cals = (
        BlackoutCalendar.objects.filter(pk__in=list(used))
        .prefetch_related("periods")
        .order_by("name")
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "calendars": [_calendar_entry(c) for c in cals],
        "tasks": [task_entry(t) for t in tasks],
    }

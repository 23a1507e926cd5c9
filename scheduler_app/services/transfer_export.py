"""Export of schedules as a JSON-ready dict (see :mod:`scheduler_app.services.transfer`).

Secrets are masked; the blackout calendars the tasks use travel with them.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from scheduler_app import policy, schedules, task_configs
from scheduler_app.models import BlackoutCalendar, ScheduledTask, TaskStatus, run_options
from scheduler_app.services import transfer_edges
from scheduler_app.services.transfer_schema import FORMAT, VERSION

#: Finished or cancelled tasks have no schedule to move.
EXPORTED_STATUSES = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.PAUSED)


def schedule_entry(schedule: schedules.Schedule) -> dict[str, Any]:
    """A schedule as its transfer keys (``schedules.ARGUMENTS``), in JSON."""
    entry = schedule.arguments()
    entry["run_at"] = schedule.run_at.isoformat() if schedule.run_at else None
    entry["interval"] = list(entry["interval"]) if entry["interval"] else None
    return entry


def task_entry(task: ScheduledTask) -> dict[str, Any]:
    """One task as exported: stable keys only, secrets masked."""
    return {
        "module": task.module_id,
        "task_type": task.task_type,
        "name": task.name,
        "config": task_configs.masked_config(task),
        **schedule_entry(task.schedule),
        **{name: getattr(task, name) for name in run_options.NAMES},
        "tags": list(task.tags or []),
        run_options.ENABLED: task.enabled,
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

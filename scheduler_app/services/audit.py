"""The task history: who created, edited, ran, paused, resumed, cancelled,
shared or deleted a task, and when.

Only :mod:`scheduler_app.services` writes events (:func:`record`); the admin
and views read them with :func:`history` (audit events) or :func:`timeline`
(audit events and execution logs together, newest first). Check access with
``policy.can_view_history(user, task)`` first, or call
``services.task_history(task, user=...)``, which does.

Where a change came from (admin, module page, command, API, import) is set by
the edge around its call to the services, with :func:`acting_from`; an event
written outside any of them says "code". Each event by a user is also written
as the admin's ``LogEntry``, so the admin's own "History" agrees.

Example::

    with audit.acting_from(AuditSource.API):
        services.pause(task, user=request.user)
    for entry in audit.timeline(task, limit=50):
        entry.at, entry.kind, entry.actor_name, entry.summary
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.utils import timezone

from scheduler_app import schedules, task_configs
from scheduler_app.models import run_options

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from scheduler_app.models import ScheduledTask, TaskAuditEvent

#: Fields whose changes ``diff`` reports (config is compared key by key, secrets masked).
TRACKED_FIELDS = (
    "name",
    "config",
    *schedules.COLUMNS,
    *run_options.NAMES,
    run_options.ENABLED,
    "status",
)


_source: ContextVar[str] = ContextVar("scheduler_audit_source", default="")


@contextlib.contextmanager
def acting_from(source: str) -> Iterator[None]:
    """Record the events written inside the block as coming from ``source`` (an AuditSource)."""
    from scheduler_app.models import AuditSource

    if source not in AuditSource.values:
        raise ValueError(
            f"Unknown audit source {source!r}; one of {', '.join(AuditSource.values)}."
        )
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    """The source set by the innermost :func:`acting_from`, or "code"."""
    return _source.get() or "code"


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def snapshot(task: ScheduledTask) -> dict[str, Any]:
    """The tracked fields of ``task`` as JSON-safe values, for :func:`diff` only.

    The config is kept as stored (secrets included) so that a changed secret
    is noticed; :func:`diff` masks it.
    """
    values = {name: _json(getattr(task, name)) for name in TRACKED_FIELDS}
    values["config"] = dict(task.config or {}) if isinstance(task.config, dict) else {}
    return values


def secret_keys(task: ScheduledTask) -> set[str]:
    """Config keys of ``task`` never to show (all of them if its type is unknown)."""
    from scheduler_app.exceptions import NotRegistered
    from scheduler_app.registry import registry

    try:
        return set(registry.get_task_type(task.module_id, task.task_type).secret_fields)
    except NotRegistered:
        return set(task.config or {})


def diff(
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    secrets: set[str] | frozenset[str] = frozenset(),
) -> dict[str, list[Any]]:
    """``{"field": [old, new]}`` for what changed between two snapshots.

    Config keys are reported one by one as ``config.<key>``; a key in
    ``secrets`` shows as masked on both sides, so the event says that it
    changed, not to what.
    """
    changes: dict[str, list[Any]] = {}
    for name in TRACKED_FIELDS:
        old, new = before.get(name), after.get(name)
        if name == "config":
            old, new = old or {}, new or {}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    pair = [old.get(key), new.get(key)]
                    if key in secrets:
                        pair = [
                            task_configs.SECRET_MASK if v not in (None, "") else v for v in pair
                        ]
                    changes[f"config.{key}"] = pair
        elif old != new:
            changes[name] = [old, new]
    return changes


def record(
    task: ScheduledTask,
    action: str,
    *,
    user: Any,
    changes: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    source: str | None = None,
) -> TaskAuditEvent:
    """Write one event (and the admin's LogEntry of it); ``user=None`` means the system."""
    from scheduler_app.models import TaskAuditEvent

    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    event = TaskAuditEvent.objects.create(
        task=task if task.pk is not None and action != "deleted" else None,
        task_ref=task.pk,
        task_name=task.name[:200],
        module_id=task.module_id,
        action=action,
        actor=actor,
        actor_name=actor.get_username()[:150] if actor is not None else "",
        at=at or timezone.now(),
        changes=changes or {},
        source=source or current_source(),
    )
    if actor is not None and apps.is_installed("django.contrib.admin"):
        _log_entry(event, task, actor)
    return event


def _log_entry(event: TaskAuditEvent, task: ScheduledTask, actor: Any) -> None:
    """The admin's LogEntry of ``event`` (it needs a user: the system's events have none)."""
    from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    flag = {"created": ADDITION, "deleted": DELETION}.get(event.action, CHANGE)
    where = event.get_source_display()
    if event.action == "edited" and event.changes:
        names = sorted(
            {
                name.partition(".")[0] if name.startswith("config.") else name
                for name in event.changes
            }
        )
        message = json.dumps([{"changed": {"fields": names}}])
    elif event.action == "created":
        message = json.dumps([{"added": {}}])
    else:
        message = f"{event.get_action_display()} ({where})"
    LogEntry.objects.create(
        user=actor,
        content_type_id=ContentType.objects.get_for_model(task, for_concrete_model=False).pk,
        object_id=str(event.task_ref),
        object_repr=event.task_name[:200],
        action_flag=flag,
        change_message=message,
        action_time=event.at,
    )


def history(task: ScheduledTask | int) -> QuerySet[TaskAuditEvent]:
    """The audit events of one task (also of a deleted one, by pk), newest first."""
    from scheduler_app.models import TaskAuditEvent

    return TaskAuditEvent.objects.for_task(task).select_related("actor").newest_first()


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a task's history: an audit event or a run."""

    at: dt.datetime
    kind: str  # "audit" or "run"
    action: str  # an AuditAction value, or the run's status
    actor_name: str  # who; "" for the system (runs are the scheduler's)
    summary: str
    source: Any  # the TaskAuditEvent or TaskExecutionLog


def _summary(event: TaskAuditEvent) -> str:
    label = str(event.get_action_display())
    if event.changes and event.action == "edited":
        return f"{label}: " + ", ".join(sorted(event.changes))
    return label


def timeline(task: ScheduledTask, *, limit: int = 100) -> list[TimelineEntry]:
    """Audit events and execution logs of ``task`` merged, newest first (two queries)."""
    entries = [
        TimelineEntry(e.at, "audit", e.action, e.actor_name, _summary(e), e)
        for e in history(task)[:limit]
    ]
    if task.pk is not None:
        for log in task.logs.newest_first()[:limit]:
            summary = f"Run #{log.attempt}: {log.get_status_display()}"
            if log.error_message:
                summary += f": {log.error_message[:200]}"
            entries.append(
                TimelineEntry(log.started_at, "run", log.status, log.triggered_by, summary, log)
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]

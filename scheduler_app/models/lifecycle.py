"""The task lifecycle: which status may follow which, in one table.

Every writer of ``ScheduledTask.status`` asks here: the services' single-row
changes (``services.steps.transition``) and the engine's set-based writes
(claiming, releasing, settling a run, pausing for a window). A set-based
write keeps its SQL but takes its source and target from :func:`move`, which
refuses a pair the table does not allow before any row is touched.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from scheduler_app.exceptions import InvalidTransition
from scheduler_app.models.choices import TaskStatus

# The lifecycle: from -> allowed targets. Everything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.PENDING: frozenset(
        {
            TaskStatus.RUNNING,
            TaskStatus.PAUSED,
            TaskStatus.CANCELLED,
            TaskStatus.FAILED,
            TaskStatus.SUCCESS,
        }
    ),
    TaskStatus.RUNNING: frozenset(
        {
            TaskStatus.PENDING,
            TaskStatus.SUCCESS,
            TaskStatus.FAILED,
            TaskStatus.CANCELLED,
            TaskStatus.PAUSED,
        }
    ),
    TaskStatus.PAUSED: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.FAILED: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.SUCCESS: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.PENDING}),
}


def check_transition(current: str, target: str) -> None:
    """Raise InvalidTransition unless the lifecycle allows ``current -> target``."""
    if current != target and target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"A {current} task cannot become {target}.")


def move(queryset: QuerySet, source: str, target: str, **values: Any) -> int:
    """Set-based ``source -> target`` for the rows of ``queryset`` still in ``source``.

    The ``status = source`` condition is the compare-and-set: a row another
    writer has moved meanwhile is left alone. Returns the number of rows moved.
    """
    check_transition(source, target)
    return queryset.filter(status=source).update(status=target, **values)


def checked(source: str, target: str) -> str:
    """``target``, once the lifecycle allows ``source -> target``: for set-based SQL of its own."""
    check_transition(source, target)
    return target


def after_run(target: str) -> str:
    """The status a running task settles into (``running -> target``), checked."""
    check_transition(TaskStatus.RUNNING, target)
    return target


# Approval requests: only an open request is decided, once. Everything else is refused.
APPROVAL_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected", "expired"}),
    "approved": frozenset(),
    "rejected": frozenset(),
    "expired": frozenset(),
}


def decide(queryset: QuerySet, target: str, **values: Any) -> int:
    """Close the still-open approval requests of ``queryset`` as ``target``; return how many.

    The ``status = pending`` condition is the compare-and-set: a request decided
    meanwhile (by another person, a second click, or the expiry) is left alone.
    """
    if target not in APPROVAL_TRANSITIONS["pending"]:
        raise InvalidTransition(f"An open approval cannot become {target}.")
    return queryset.filter(status="pending").update(status=target, **values)

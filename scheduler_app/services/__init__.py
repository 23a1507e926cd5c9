"""Use cases. Outside the engine, the only writer of task state.

Every function takes the acting ``user`` and asks :mod:`scheduler_app.policy`;
``user=None`` means the system itself (management commands run as system
unless given ``--as-user``). Errors are ``PermissionDenied`` or
``ValidationError`` with field-level messages.

Access is always decided on the row as stored, re-read under a row lock,
never on the instance passed in (a form may have changed it in memory).
Every change is written to the task's history (:mod:`scheduler_app.services.audit`).
Config secrets (``secret_fields``) are masked in signals and history, and an
edit that sends a secret back masked or empty keeps the stored one.

The names below are loaded on first use (``services.approve`` or ``from
scheduler_app.services import approve`` imports :mod:`~scheduler_app.services.approvals`
then): a process that only imports this package, as every ``runscheduler`` does
through the admin and the alerts, does not pay for the use cases it never calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # What the names are, for type checkers and the import contracts (lint-imports).
    from scheduler_app.services.approvals import approve, reject
    from scheduler_app.services.control import cancel, interrupt, pause, resume, run_now
    from scheduler_app.services.duplicates import (
        DuplicateTask,
        Overlaps,
        SameMinute,
        find_duplicate,
        refuse_duplicate,
        same_minute,
        same_minute_overview,
        schedule_overlaps,
    )
    from scheduler_app.services.emitting import emit
    from scheduler_app.services.locks import clear_lock, clear_locks
    from scheduler_app.services.reading import (
        get_task,
        next_runs,
        next_runs_with_notes,
        task_history,
        task_logs,
        visible_config,
    )
    from scheduler_app.services.scheduling import delete, schedule
    from scheduler_app.services.sharing import share, shared_with, unshare
    from scheduler_app.services.steps import NO_CHANGE
    from scheduler_app.services.updating import (
        EDITABLE_FIELDS,
        RESUMABLE,
        update,
        validate_update,
    )
    from scheduler_app.services.validation import build_schedule, check_schedule, resolve_task_type
    from scheduler_app.services.workflows import add_edge, change_edge, remove_edge

#: Each public name and the submodule that defines it.
_SOURCES = {
    "approvals": ("approve", "reject"),
    "control": ("cancel", "interrupt", "pause", "resume", "run_now"),
    "duplicates": (
        "DuplicateTask",
        "Overlaps",
        "SameMinute",
        "find_duplicate",
        "refuse_duplicate",
        "same_minute",
        "same_minute_overview",
        "schedule_overlaps",
    ),
    "emitting": ("emit",),
    "locks": ("clear_lock", "clear_locks"),
    "reading": (
        "get_task",
        "next_runs",
        "next_runs_with_notes",
        "task_history",
        "task_logs",
        "visible_config",
    ),
    "scheduling": ("delete", "schedule"),
    "sharing": ("share", "shared_with", "unshare"),
    "steps": ("NO_CHANGE",),
    "updating": ("EDITABLE_FIELDS", "RESUMABLE", "update", "validate_update"),
    "validation": ("build_schedule", "check_schedule", "resolve_task_type"),
    "workflows": ("add_edge", "change_edge", "remove_edge"),
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    "EDITABLE_FIELDS",
    "RESUMABLE",
    "NO_CHANGE",
    "DuplicateTask",
    "add_edge",
    "approve",
    "Overlaps",
    "SameMinute",
    "build_schedule",
    "check_schedule",
    "change_edge",
    "cancel",
    "clear_lock",
    "clear_locks",
    "delete",
    "emit",
    "find_duplicate",
    "get_task",
    "interrupt",
    "next_runs",
    "next_runs_with_notes",
    "pause",
    "refuse_duplicate",
    "reject",
    "remove_edge",
    "resolve_task_type",
    "resume",
    "run_now",
    "same_minute",
    "same_minute_overview",
    "schedule_overlaps",
    "schedule",
    "share",
    "shared_with",
    "task_history",
    "task_logs",
    "unshare",
    "update",
    "validate_update",
    "visible_config",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once loaded, a plain attribute (no second look-up)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

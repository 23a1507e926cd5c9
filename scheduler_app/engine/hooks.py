"""Extension points of a scheduler pass, for features that live beside the engine.

* ``before_pass(scheduler_pass)``: e.g. resume tasks whose pause window ended;
* ``slot_filters(rows, now) -> {task_id: reason}``: claimed occurrences to skip
  (logged as skipped, the task moves to its next slot), e.g. blackout calendars;
* ``after_pass(scheduler_pass, report)``: e.g. watchdog checks and alerts.

A hook that raises is logged and ignored: it must never stop the pass.
Register in ``AppConfig.ready()``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

logger = logging.getLogger("scheduler_app.engine")

before_pass: list[Callable[[Any], None]] = []
after_pass: list[Callable[[Any, Any], None]] = []
slot_filters: list[Callable[[list[dict], dt.datetime], dict[int, str]]] = []


def _register(registry: list, hook: Callable) -> Callable:
    if hook not in registry:
        registry.append(hook)
    return hook


def register_before_pass(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    return _register(before_pass, hook)


def register_after_pass(hook: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    return _register(after_pass, hook)


def register_slot_filter(
    hook: Callable[[list[dict], dt.datetime], dict[int, str]],
) -> Callable[[list[dict], dt.datetime], dict[int, str]]:
    return _register(slot_filters, hook)


def run_before(scheduler_pass: Any) -> None:
    for hook in list(before_pass):
        _safely(hook, scheduler_pass)


def run_after(scheduler_pass: Any, report: Any) -> None:
    for hook in list(after_pass):
        _safely(hook, scheduler_pass, report)


def blocked(rows: list[dict], now: dt.datetime) -> dict[int, str]:
    found: dict[int, str] = {}
    for hook in list(slot_filters):
        result = _safely(hook, rows, now)
        for task_id, reason in (result or {}).items():
            found.setdefault(task_id, reason)
    return found


def _safely(hook: Callable, *args: Any) -> Any:
    try:
        # Slot filters run inside the claim's transaction, where a failed query would
        # abort it (PostgreSQL): a savepoint keeps the hook's failure its own.
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            return hook(*args)
    except Exception as exc:  # noqa: BLE001 - a feature's bug must not stop the scheduler
        # One line at WARNING (the pass may fail on the same cause, with its own
        # one-line error); the traceback at DEBUG for whoever digs.
        name = getattr(hook, "__qualname__", hook)
        logger.warning(
            "Scheduler hook %s failed (%s: %s); the pass goes on.",
            name,
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        )
        logger.debug("Traceback of the failed hook %s", name, exc_info=True)
        return None

"""Extension points of a scheduler pass, for features that live beside the engine.

* ``before_pass(scheduler_pass)``: e.g. resume tasks whose pause window ended;
* ``slot_filters(rows, now) -> {task_id: reason}``: claimed occurrences to skip
  (logged as skipped, the task moves to its next slot), e.g. blackout calendars;
* ``after_pass(scheduler_pass, report)``: e.g. watchdog checks and alerts;
* ``runs_failed(runs, now)``: runs that ended failed, timed out or abandoned,
  called inside the transaction that records them (a savepoint of its own),
  so what the hook writes (e.g. the alerts' outbox) commits with the runs or
  not at all. Called only while a hook is registered: register it only while
  it has work to do.

A hook that raises is logged and ignored: it must never stop the pass.
Register in ``AppConfig.ready()``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

logger = logging.getLogger("scheduler_app.engine")

before_pass: list[Callable[[Any], None]] = []
after_pass: list[Callable[[Any, Any], None]] = []
slot_filters: list[Callable[[list[dict], dt.datetime], dict[int, str]]] = []


@dataclass(frozen=True)
class FailedRun:
    """A run that ended failed, timed out or abandoned, and its task's state after it."""

    task_id: int
    name: str
    module_id: str
    task_type: str
    owner_id: int | None
    status: str  # a RunStatus: failed, timeout or abandoned
    error: str
    run_id: str
    scheduled_for: dt.datetime | None
    retry_count: int  # after the run: 0 means no retry is planned
    failure_streak: int

    @classmethod
    def of(
        cls, row: dict, values: dict, *, status: str, error: str, run_id: str, slot: Any
    ) -> FailedRun:
        """From a claimed row and its settled values (engine.settle)."""
        return cls(
            task_id=row["id"],
            name=row["name"],
            module_id=row["module_id"],
            task_type=row["task_type"],
            owner_id=row["owner_id"],
            status=str(status),
            error=error,
            run_id=run_id,
            scheduled_for=slot,
            retry_count=values["retry_count"],
            failure_streak=values["failure_streak"],
        )


runs_failed: list[Callable[[list[FailedRun], dt.datetime], None]] = []


def _register(registry: list, hook: Callable) -> Callable:
    if hook not in registry:
        registry.append(hook)
    return hook


def register_before_pass(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    return _register(before_pass, hook)


def register_after_pass(hook: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    return _register(after_pass, hook)


def register_runs_failed(
    hook: Callable[[list[FailedRun], dt.datetime], None],
) -> Callable[[list[FailedRun], dt.datetime], None]:
    return _register(runs_failed, hook)


def unregister_runs_failed(hook: Callable[[list[FailedRun], dt.datetime], None]) -> None:
    if hook in runs_failed:
        runs_failed.remove(hook)


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


def report_failed(runs: list[FailedRun], now: dt.datetime) -> None:
    """Tell the ``runs_failed`` hooks (inside the recording transaction)."""
    if not runs:
        return
    for hook in list(runs_failed):
        _safely(hook, runs, now)


class _FilterFailed(Exception):
    """Rolls back the slot filters' savepoint when one of them raised."""


def blocked(rows: list[dict], now: dt.datetime) -> dict[int, str]:
    """{task id: reason} of the claimed occurrences some slot filter says to skip.

    The filters only read, so they share one savepoint (two round trips per claim,
    not two per filter); a filter that raises rolls it back and is logged, and the
    filters after it go on in a savepoint of their own.
    """
    found: dict[int, str] = {}
    pending = list(slot_filters)
    while pending:
        try:
            with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
                while pending:
                    hook = pending[0]
                    try:
                        result = hook(rows, now)
                    except Exception as exc:
                        raise _FilterFailed from exc
                    pending.pop(0)
                    for task_id, reason in (result or {}).items():
                        found.setdefault(task_id, reason)
        except _FilterFailed as failure:
            _log_failed(pending.pop(0), failure.__cause__)
    return found


def _safely(hook: Callable, *args: Any) -> Any:
    try:
        # Slot filters run inside the claim's transaction, where a failed query would
        # abort it (PostgreSQL): a savepoint keeps the hook's failure its own.
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            return hook(*args)
    except Exception as exc:  # noqa: BLE001 - a feature's bug must not stop the scheduler
        _log_failed(hook, exc)
        return None


def _log_failed(hook: Callable, exc: BaseException | None) -> None:
    # One line at WARNING (the pass may fail on the same cause, with its own
    # one-line error); the traceback at DEBUG for whoever digs.
    name = getattr(hook, "__qualname__", hook)
    text = str(exc).strip()
    logger.warning(
        "Scheduler hook %s failed (%s: %s); the pass goes on.",
        name,
        type(exc).__name__,
        text.splitlines()[0] if text else "",
    )
    logger.debug("Traceback of the failed hook %s", name, exc_info=exc)

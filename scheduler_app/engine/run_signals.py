"""Send lifecycle signals for runs, building model objects only when someone listens."""

from __future__ import annotations

from scheduler_app import schedules, signals
from scheduler_app.engine.runspec import FAILED, SUCCESS, TIMEOUT, Outcome, RunSpec
from scheduler_app.engine.settle import LOG_STATUS
from scheduler_app.models import ScheduledTask, TaskExecutionLog

_TASK_ATTRS = (
    "id",
    "module_id",
    "task_type",
    "name",
    "config",
    "owner_id",
    "timeout",
    "max_retries",
    *schedules.COLUMNS,
    "misfire_policy",
    "misfire_grace",
    "allow_overlap",
    "created_at",
)


def _listening(*sigs) -> bool:  # noqa: ANN002
    return any(sig.has_listeners() for sig in sigs) or signals.any_module_signal()


def _task(row: dict, values: dict | None = None) -> ScheduledTask:
    task = ScheduledTask(**{name: row[name] for name in _TASK_ATTRS if name in row})
    for name, value in (values or {}).items():
        setattr(task, name, value)
    task._state.adding = False
    return task


def send_executing(rows: dict[int, dict], specs: list[RunSpec]) -> None:
    if not _listening(signals.task_executing):
        return
    for spec in specs:
        log = TaskExecutionLog(
            pk=spec.log_id,
            task_id=spec.task_id,
            run_id=spec.run_id,
            scheduled_for=spec.scheduled_for,
            attempt=spec.attempt,
        )
        log._state.adding = False
        signals.send_lifecycle(
            signals.task_executing, "task.executing", task=_task(rows[spec.task_id]), log=log
        )


def send_run_signals(rows: dict[int, dict], outcomes: list[Outcome], task_values: dict) -> None:
    if not _listening(signals.task_executed, signals.task_succeeded, signals.task_failed):
        return
    for o in outcomes:
        task = _task(rows[o.spec.task_id], task_values.get(o.spec.task_id))
        log = TaskExecutionLog(
            pk=o.spec.log_id,
            task_id=o.spec.task_id,
            run_id=o.spec.run_id,
            scheduled_for=o.spec.scheduled_for,
            attempt=o.spec.attempt,
            status=LOG_STATUS[o.kind],
            started_at=o.started_at,
            finished_at=o.finished_at,
            duration=o.duration,
            error_message=o.error,
            output=o.output,
        )
        log._state.adding = False
        signals.send_lifecycle(signals.task_executed, "task.executed", task=task, log=log)
        if o.kind == SUCCESS:
            signals.send_lifecycle(signals.task_succeeded, "task.succeeded", task=task, log=log)
        elif o.kind in (FAILED, TIMEOUT):
            signals.send_lifecycle(signals.task_failed, "task.failed", task=task, log=log)

"""Send lifecycle signals for runs, building model objects only when someone listens."""

from __future__ import annotations

from scheduler_app import schedules, signals
from scheduler_app.engine.row_objects import RowObjects
from scheduler_app.engine.runspec import FAILED, SUCCESS, TIMEOUT, Outcome, RunSpec
from scheduler_app.engine.settle import LOG_STATUS
from scheduler_app.models import ScheduledTask, TaskExecutionLog
from scheduler_app.task_configs import masked_config

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


_tasks = RowObjects(ScheduledTask)
_logs = RowObjects(TaskExecutionLog)


def _heard(events: dict[str, signals.Signal]) -> tuple[bool, set[str]]:
    """(a generic signal has receivers, the modules whose own twin of one has receivers)."""
    generic = any(sig.has_listeners() for sig in events.values())
    return generic, signals.modules_listening(tuple(events))


def _task(row: dict, values: dict | None = None) -> ScheduledTask:
    task = _tasks.build({name: row[name] for name in _TASK_ATTRS if name in row} | (values or {}))
    assert isinstance(task, ScheduledTask)
    return task


def send_executing(rows: dict[int, dict], specs: list[RunSpec]) -> None:
    generic, modules = _heard({"task.executing": signals.task_executing})
    if not generic and not modules:
        return
    for spec in specs:
        if not generic and spec.module_id not in modules:
            continue
        log = _logs.build(
            {
                "id": spec.log_id,
                "task_id": spec.task_id,
                "run_id": spec.run_id,
                "scheduled_for": spec.scheduled_for,
                "attempt": spec.attempt,
            }
        )
        signals.send_lifecycle(
            signals.task_executing, "task.executing", task=_task(rows[spec.task_id]), log=log
        )


def send_run_signals(rows: dict[int, dict], outcomes: list[Outcome], task_values: dict) -> None:
    generic, modules = _heard(
        {
            "task.executed": signals.task_executed,
            "task.succeeded": signals.task_succeeded,
            "task.failed": signals.task_failed,
        }
    )
    if not generic and not modules:
        return
    for o in outcomes:
        if not generic and o.spec.module_id not in modules:
            continue
        task = _task(rows[o.spec.task_id], task_values.get(o.spec.task_id))
        log = _logs.build(
            {
                "id": o.spec.log_id,
                "task_id": o.spec.task_id,
                "run_id": o.spec.run_id,
                "scheduled_for": o.spec.scheduled_for,
                "attempt": o.spec.attempt,
                "status": LOG_STATUS[o.kind],
                "started_at": o.started_at,
                "finished_at": o.finished_at,
                "duration": o.duration,
                "error_message": o.error,
                "output": o.output,
            }
        )
        # Masked once for the run's two signals (executed, then succeeded or failed).
        config = masked_config(task)
        signals.send_lifecycle(
            signals.task_executed, "task.executed", task=task, log=log, config=config
        )
        if o.kind == SUCCESS:
            signals.send_lifecycle(
                signals.task_succeeded, "task.succeeded", task=task, log=log, config=config
            )
        elif o.kind in (FAILED, TIMEOUT):
            signals.send_lifecycle(
                signals.task_failed, "task.failed", task=task, log=log, config=config
            )

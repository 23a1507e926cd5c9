"""Execute one RunSpec: resolve the task type, validate config, call the body.

Runs inside a worker process (or inline). Never raises: every way a body can
end becomes an Outcome.
"""

from __future__ import annotations

import traceback as tb

from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from scheduler_app.configs import clean_config
from scheduler_app.context import TaskContext
from scheduler_app.engine.capture import BoundedBuffer, captured
from scheduler_app.engine.runspec import (
    CONDITION_UNMET,
    FAILED,
    PENDING,
    SKIPPED,
    SUCCESS,
    Outcome,
    RunSpec,
)
from scheduler_app.exceptions import NotRegistered
from scheduler_app.providers import TaskResult
from scheduler_app.registry import registry
from scheduler_app.schedules import CONDITIONAL


def error_text(exc: BaseException) -> str:
    cls = type(exc)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    return f"{name}: {exc}" if str(exc) else name


def execute(spec: RunSpec, output_limit: int) -> Outcome:
    """Run the task body of ``spec`` and report how it ended."""
    started = timezone.now()
    buffer = BoundedBuffer(output_limit)
    outcome = Outcome(spec, FAILED, started, started)
    # Inline, the caller may already be in a transaction: its connections are not the body's to drop.
    callers = {
        conn.alias for conn in connections.all(initialized_only=True) if conn.in_atomic_block
    }
    with captured(buffer):
        _execute_into(spec, outcome)
    outcome.finished_at = timezone.now()
    outcome.output = buffer.getvalue()
    if outcome.kind == FAILED and outcome.traceback:
        _drop_broken_connections(keep=callers)
    return outcome


def _execute_into(spec: RunSpec, outcome: Outcome) -> None:
    try:
        provider = registry.get(spec.module_id)
        task_cls = provider.get_task_type(spec.task_type)
    except NotRegistered as exc:
        outcome.error, outcome.retry = f"{exc} Is the module still installed?", False
        outcome.unrunnable = True
        return
    try:
        config = clean_config(task_cls, spec.config)
    except ValidationError as exc:
        outcome.error = f"The stored configuration is no longer valid: {_flatten(exc)}"
        outcome.retry, outcome.unrunnable = False, True
        return
    context = TaskContext(
        task_id=spec.task_id,
        module_id=spec.module_id,
        task_type=spec.task_type,
        name=spec.name,
        config=config,
        scheduled_for=spec.scheduled_for,
        attempt=spec.attempt,
        run_id=spec.run_id,
        owner_id=spec.owner_id,
        timezone=spec.timezone,
        payload=spec.payload or {},
    )
    task = task_cls(provider, spec.task_type)
    try:
        if not task.can_execute(context):
            outcome.kind, outcome.message = SKIPPED, "can_execute() said no"
            return
        if spec.schedule_type == CONDITIONAL and not task.condition(context):
            outcome.kind, outcome.message = CONDITION_UNMET, "condition not met"
            return
    except Exception as exc:  # noqa: BLE001 - a provider bug fails this task only
        outcome.error, outcome.traceback, outcome.retry = (
            f"The task type's checks raised {error_text(exc)}",
            tb.format_exc(),
            False,
        )
        outcome.unrunnable = True
        return
    try:
        result = task.execute(context)
    except SystemExit as exc:
        outcome.error = f"The task called sys.exit({exc.code!r})."
        outcome.traceback = tb.format_exc()
        _hook(task.on_failure, outcome.error, context)
        return
    except Exception as exc:  # noqa: BLE001 - every body error is logged, not raised
        outcome.error, outcome.traceback = error_text(exc), tb.format_exc()
        _hook(task.on_failure, outcome.error, context)
        return
    if not isinstance(result, TaskResult):
        outcome.error = f"execute() returned {type(result).__name__}, not a TaskResult."
        outcome.retry = False
        return
    outcome.message, outcome.data = result.message or "", result.data
    if result.status == TaskResult.SUCCESS:
        outcome.kind = SUCCESS
        _hook(task.on_success, result, context)
    elif result.status == TaskResult.PENDING:
        outcome.kind, outcome.next_run = PENDING, result.next_run
    else:
        outcome.error = result.message or "The task reported a failure."
        outcome.retry, outcome.retry_delay = result.retry, result.retry_delay
        _hook(task.on_failure, outcome.error, context)


def _hook(method, *args) -> None:  # noqa: ANN001
    try:
        method(*args)
    except Exception:  # noqa: BLE001 - a failing hook is reported, the run's status stands
        print(f"{method.__name__} hook raised:\n{tb.format_exc()}")


def _flatten(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _drop_broken_connections(keep: set[str] | frozenset[str] = frozenset()) -> None:
    """After a body error, discard connections it left unusable (rollback state, closed)."""
    for conn in connections.all(initialized_only=True):
        if conn.alias in keep:
            continue
        if conn.connection is not None and (
            conn.needs_rollback or conn.in_atomic_block or not conn.is_usable()
        ):
            conn.close()

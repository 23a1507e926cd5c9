"""Execute one RunSpec: resolve the task type, validate config, call the body.

Runs inside a worker process (or inline). Never raises: every way a body can
end, and anything it returns, becomes an Outcome fit to pickle and to store
(:mod:`scheduler_app.engine.storable`). Only the engine's own
:class:`~scheduler_app.engine.runspec.Stop` (a timeout, a stop request)
passes through.
"""

from __future__ import annotations

import datetime as dt
import math
import traceback as tb
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from scheduler_app import conf
from scheduler_app.context import TaskContext
from scheduler_app.engine import storable
from scheduler_app.engine.capture import BoundedBuffer, captured
from scheduler_app.engine.progress import ProgressReporter
from scheduler_app.engine.runspec import (
    CONDITION_UNMET,
    FAILED,
    PENDING,
    SKIPPED,
    SUCCESS,
    Outcome,
    RunSpec,
    Stop,
)
from scheduler_app.exceptions import NotRegistered
from scheduler_app.providers import TaskResult
from scheduler_app.registry import registry
from scheduler_app.schedules import CONDITIONAL
from scheduler_app.task_configs import clean_config

# A retry delay a body asks for is kept within a year: a longer one reads as a mistake.
MAX_RETRY_DELAY = 366 * 24 * 3600.0


def error_text(exc: BaseException) -> str:
    """``module.Class: message`` of ``exc``, whatever its ``__str__`` does."""
    cls = type(exc)
    name = storable.describe(getattr(cls, "__qualname__", "exception"))
    module = getattr(cls, "__module__", "builtins")
    if module != "builtins":
        name = f"{storable.describe(module)}.{name}"
    try:
        message = str(exc)
        if type(message) is not str:
            raise TypeError
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - the body's __str__ may raise anything
        return f"{name} (its message could not be read)"
    return f"{name}: {message}" if message else name


def format_traceback() -> str:
    """The traceback of the exception being handled, or a note if even that fails."""
    try:
        return tb.format_exc()
    except Stop:
        raise
    except BaseException as exc:  # noqa: BLE001 - e.g. a __notes__ attribute that raises
        return f"(The traceback could not be formatted: {type(exc).__name__}.)"


def execute(spec: RunSpec, output_limit: int) -> Outcome:
    """Run the task body of ``spec`` and report how it ended."""
    started = timezone.now()
    buffer = BoundedBuffer(output_limit)
    outcome = Outcome(spec, FAILED, started, started)
    reporter = ProgressReporter(
        spec.log_id, interval=conf.get().PROGRESS_INTERVAL, output=buffer.getvalue
    )
    # Inline, the caller may already be in a transaction: its connections are not the body's to drop.
    callers = {
        conn.alias for conn in connections.all(initialized_only=True) if conn.in_atomic_block
    }
    with captured(buffer):
        try:
            _execute_into(spec, outcome, reporter)
        except Stop:
            reporter.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - e.g. a task type whose constructor raises
            outcome.kind, outcome.data, outcome.retry = FAILED, None, False
            outcome.error = f"The task could not be run: {error_text(exc)}"
            outcome.traceback = format_traceback()
        reporter.finish()
    outcome.finished_at = timezone.now()
    outcome.output = buffer.getvalue()
    make_storable(outcome)
    if outcome.kind == FAILED and outcome.traceback:
        _drop_broken_connections(keep=callers)
    return outcome


def make_storable(outcome: Outcome) -> Outcome:
    """Bring every field a body controls into a form pickle and both databases take."""
    outcome.message = storable.text(outcome.message, storable.MESSAGE_LIMIT)
    outcome.error = storable.text(outcome.error, storable.MESSAGE_LIMIT)
    outcome.traceback = storable.text(outcome.traceback, storable.TRACEBACK_LIMIT)
    # Already cut at OUTPUT_LIMIT by the capture; only its characters are checked.
    outcome.output = storable.text(outcome.output, len(outcome.output) + 1)
    outcome.data = storable.json_value(outcome.data, conf.get().RESULT_LIMIT)
    return outcome


def _execute_into(
    spec: RunSpec, outcome: Outcome, reporter: ProgressReporter | None = None
) -> None:
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
        progress_sink=reporter.report if reporter is not None else None,
    )
    task = task_cls(provider, spec.task_type)
    try:
        if not task.can_execute(context):
            outcome.kind, outcome.message = SKIPPED, "can_execute() said no"
            return
        if spec.schedule_type == CONDITIONAL and not task.condition(context):
            outcome.kind, outcome.message = CONDITION_UNMET, "condition not met"
            return
    except Stop:
        raise
    except BaseException as exc:  # noqa: BLE001 - a provider bug fails this task only
        outcome.error, outcome.traceback, outcome.retry = (
            f"The task type's checks raised {error_text(exc)}",
            format_traceback(),
            False,
        )
        outcome.unrunnable = True
        return
    try:
        result = task.execute(context)
    except Stop:
        raise
    except SystemExit as exc:
        outcome.error = f"The task called sys.exit({storable.represent(exc.code)})."
        outcome.traceback = format_traceback()
    except Exception as exc:  # noqa: BLE001 - every body error is logged, not raised
        outcome.error, outcome.traceback = error_text(exc), format_traceback()
    except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt, GeneratorExit ... alike
        outcome.error, outcome.traceback = f"The task raised {error_text(exc)}", format_traceback()
    else:
        _read_result(result, outcome, task, context)
        return
    _hook(task.on_failure, outcome.error, context)


def _read_result(result: Any, outcome: Outcome, task: Any, context: TaskContext) -> None:
    """Fill ``outcome`` from what the body returned; a result that cannot be read fails the run."""
    if not isinstance(result, TaskResult):
        name = storable.describe(getattr(type(result), "__name__", "object"))
        outcome.error = f"execute() returned {name}, not a TaskResult."
        outcome.retry = False
        return
    try:
        status, message = result.status, result.message
        outcome.message = "" if message is None else storable.text(message, storable.MESSAGE_LIMIT)
        outcome.data = result.data
        if isinstance(status, str) and str.__str__(status) == TaskResult.SUCCESS:
            outcome.kind = SUCCESS
            _hook(task.on_success, result, context)
        elif isinstance(status, str) and str.__str__(status) == TaskResult.PENDING:
            outcome.kind, outcome.next_run = PENDING, _moment(result.next_run, context.timezone)
        else:
            outcome.error = outcome.message or "The task reported a failure."
            outcome.retry = _flag(result.retry)
            outcome.retry_delay = _seconds(result.retry_delay)
            _hook(task.on_failure, outcome.error, context)
    except Stop:
        raise
    except BaseException as exc:  # noqa: BLE001 - a TaskResult subclass runs the body's code
        outcome.kind, outcome.data, outcome.retry = FAILED, None, False
        outcome.error = f"The task's TaskResult could not be read: {error_text(exc)}"
        outcome.traceback = format_traceback()


def _flag(value: Any) -> bool:
    """``retry``: its truth, or True (the default) if even that cannot be read."""
    try:
        return bool(value)
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - __bool__ is the body's code
        return True


def _seconds(value: Any) -> float | None:
    """A retry delay in seconds, or None (the backoff) for anything but 0 to a year of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    seconds = float(int.__int__(value) if isinstance(value, int) else float.__float__(value))
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_RETRY_DELAY:
        return None
    return seconds


def _moment(value: Any, zone: str) -> dt.datetime | None:
    """A later run's time in UTC (a naive one read in the task's zone), or None (the backoff)."""
    if not isinstance(value, dt.datetime):
        return None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value, ZoneInfo(zone or "UTC"))
        utc = value.astimezone(dt.UTC)
        # A plain datetime: a subclass would carry the body's code into the engine.
        return dt.datetime(
            utc.year,
            utc.month,
            utc.day,
            utc.hour,
            utc.minute,
            utc.second,
            utc.microsecond,
            tzinfo=dt.UTC,
        )
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - out of range, unknown zone, a tzinfo that raises
        return None


def _hook(method, *args) -> None:  # noqa: ANN001
    try:
        method(*args)
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - a failing hook is reported, the run's status stands
        print(f"{getattr(method, '__name__', 'hook')} hook raised:\n{format_traceback()}")


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

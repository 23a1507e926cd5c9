"""Lifecycle signals. Every signal is sent with ``sender=ScheduledTask``,
``task=...`` and ``config=...`` (secrets masked); run signals also carry
``log=...`` (a TaskExecutionLog).

Module events: ``module_signal(module_id, "task.executed")`` returns the one
signal named ``<module>.task.executed``; the engine sends it beside the
generic signal, so a module can listen to its own tasks only.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger("scheduler_app.signals")

task_scheduled = Signal()
task_executing = Signal()
task_executed = Signal()
task_succeeded = Signal()
task_failed = Signal()
task_cancelled = Signal()

_module_signals: dict[str, Signal] = {}


def module_signal(module_id: str, event: str) -> Signal:
    """Return the signal ``<module_id>.<event>`` (e.g. ``reports.task.executed``)."""
    name = f"{module_id}.{event}"
    if name not in _module_signals:
        _module_signals[name] = Signal()
    return _module_signals[name]


def modules_listening(events: tuple[str, ...]) -> set[str]:
    """The modules whose own twin of one of ``events`` has a receiver now."""
    found = set()
    for name, sig in list(_module_signals.items()):
        for event in events:
            if name.endswith(f".{event}") and sig.has_listeners():
                found.add(name[: -len(event) - 1])
    return found


def send_lifecycle(signal: Signal, event: str, *, task, log=None, **extra) -> None:  # noqa: ANN001
    """Send a generic lifecycle signal and the module's own twin of it.

    Receivers also get ``config``: the task's config with secrets masked
    (``task.config`` holds the real values; show ``config``, never those).
    """
    from scheduler_app.models import ScheduledTask
    from scheduler_app.task_configs import masked_config

    if "config" not in extra:  # the engine passes it, masked once for a run's two signals
        extra["config"] = masked_config(task)
    send_robustly(signal, event, sender=ScheduledTask, task=task, log=log, **extra)
    twin = _module_signals.get(f"{task.module_id}.{event}")
    if twin is not None:
        send_robustly(
            twin, f"{task.module_id}.{event}", sender=ScheduledTask, task=task, log=log, **extra
        )


def send_robustly(signal: Signal, event: str, **kwargs: Any) -> None:
    """Send ``signal`` to every receiver; a receiver that raises is logged by name, not raised.

    Signals are sent after the change they announce was committed (a run recorded, a
    task scheduled or cancelled): a project's receiver that fails must not undo the
    caller's success, stop the scheduler's pass, or keep the other receivers from
    hearing of it.
    """
    for receiver, response in signal.send_robust(**kwargs):
        if isinstance(response, Exception):
            task = kwargs.get("task")
            logger.error(
                "Receiver %s of %s (task %s) raised %s: %s",
                receiver_name(receiver),
                event,
                getattr(task, "pk", None),
                type(response).__name__,
                _safe_str(response),
                exc_info=(type(response), response, response.__traceback__),
            )


def receiver_name(receiver: Any) -> str:
    """``module.qualname`` of a receiver (functions, bound methods, callables)."""
    target = getattr(receiver, "__func__", receiver)
    module = getattr(target, "__module__", None) or type(target).__module__
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}"


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:200]
    except Exception:  # noqa: BLE001 - a receiver's exception whose str() itself raises
        return "(unprintable)"

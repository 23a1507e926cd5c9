"""Lifecycle signals. Every signal is sent with ``sender=ScheduledTask``,
``task=...`` and ``config=...`` (secrets masked); run signals also carry
``log=...`` (a TaskExecutionLog).

Module events: ``module_signal(module_id, "task.executed")`` returns the one
signal named ``<module>.task.executed``; the engine sends it beside the
generic signal, so a module can listen to its own tasks only.
"""

from __future__ import annotations

from django.dispatch import Signal

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


def any_module_signal() -> bool:
    """Whether a module signal was ever asked for (so a receiver may be listening)."""
    return bool(_module_signals)


def send_lifecycle(signal: Signal, event: str, *, task, log=None, **extra) -> None:  # noqa: ANN001
    """Send a generic lifecycle signal and the module's own twin of it.

    Receivers also get ``config``: the task's config with secrets masked
    (``task.config`` holds the real values; show ``config``, never those).
    """
    from scheduler_app.models import ScheduledTask
    from scheduler_app.task_configs import masked_config

    extra.setdefault("config", masked_config(task))
    signal.send(sender=ScheduledTask, task=task, log=log, **extra)
    twin = _module_signals.get(f"{task.module_id}.{event}")
    if twin is not None:
        twin.send(sender=ScheduledTask, task=task, log=log, **extra)

"""What raises alerts: the ``task_failed`` signal, the pass hooks and the watchdog command."""

from __future__ import annotations

import datetime as dt
import logging
import types
from typing import Any

from django.core.signals import setting_changed
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import signals
from scheduler_app.monitoring import watchdog
from scheduler_app.monitoring.alerts import config, ratelimit, send
from scheduler_app.monitoring.alerts.alert import Alert
from scheduler_app.monitoring.alerts.config import FAILED, OVERDUE, SILENT, STREAK

logger = logging.getLogger("scheduler_app.alerts")

_UID = "scheduler_app.alerts"
# Alerts raised during a pass wait here and go out after it. Not per thread: the
# pass records runs (and so sends task_failed) from its database thread.
_local = types.SimpleNamespace(queue=None)
ERROR_CHARS = 500


# -- run failures -----------------------------------------------------------------


def failure_alerts(task: Any, log: Any, now: dt.datetime) -> list[Alert]:
    """The alerts a failed run of ``task`` raises: permanent failure, failure streak."""
    settings = config.get()
    error = (
        (getattr(log, "error_message", "") or task.error_message or "").strip().splitlines() or [""]
    )[0][:ERROR_CHARS]
    status = getattr(log, "status", "") or "failed"
    common = {
        "task_id": task.pk,
        "task_name": task.name,
        "module_id": task.module_id,
        "task_type": task.task_type,
        "owner_id": task.owner_id,
        "at": now,
    }
    details = {
        "run": getattr(log, "run_id", ""),
        "status": status,
        "error": error,
        "consecutive_failures": task.failure_streak,
    }
    if getattr(log, "scheduled_for", None):
        details["scheduled_for"] = log.scheduled_for.isoformat()
    found = []
    # After a failure, a retry_count of 0 means no retry was planned: the failure is final.
    if settings.wants(FAILED) and task.retry_count == 0:
        found.append(
            Alert(
                FAILED,
                _("[scheduler] “%(name)s” failed") % {"name": task.name},
                _("A run of “%(name)s” ended %(status)s and will not be retried: %(error)s")
                % {"name": task.name, "status": status, "error": error or _("no message")},
                details=dict(details),
                **common,
            )
        )
    if settings.wants(STREAK) and task.failure_streak >= settings.failure_streak:
        found.append(
            Alert(
                STREAK,
                _("[scheduler] “%(name)s” failed %(count)d times in a row")
                % {"name": task.name, "count": task.failure_streak},
                _("The last %(count)d runs of “%(name)s” failed; the last error: %(error)s")
                % {
                    "count": task.failure_streak,
                    "name": task.name,
                    "error": error or _("no message"),
                },
                details=dict(details),
                **common,
            )
        )
    return found


def on_task_failed(sender: Any, task: Any, log: Any = None, **kwargs: Any) -> None:
    """Receiver of ``task_failed``: collect the alerts during a pass, else send them now."""
    try:
        found = failure_alerts(task, log, timezone.now())
        queue = getattr(_local, "queue", None)
        if queue is not None:
            queue.extend(found)
        elif found:
            send(found)
    except Exception:  # noqa: BLE001 - an alert must never break the run's recording
        logger.exception("Could not raise the alerts for task %s.", getattr(task, "pk", "?"))


# -- the watchdog's findings ----------------------------------------------------------


def overdue_alert(item: watchdog.OverdueTask, now: dt.datetime) -> Alert:
    return Alert(
        OVERDUE,
        _("[scheduler] “%(name)s” is overdue") % {"name": item.name},
        item.describe(now),
        now,
        task_id=item.task_id,
        task_name=item.name,
        module_id=item.module_id,
        task_type=item.task_type,
        owner_id=item.owner_id,
        details={
            "due_at": item.due_at.isoformat(),
            "late_seconds": int(item.late_by(now).total_seconds()),
            "grace_seconds": item.grace,
        },
    )


def watchdog_alerts(status: watchdog.WatchdogStatus) -> list[Alert]:
    """A silent-scheduler alert, or else one alert per overdue task not alerted recently.

    While the scheduler is silent every task falls overdue: the one alert says so.
    """
    settings = config.get()
    now = status.checked_at
    if status.silent:
        if not settings.wants(SILENT):
            return []
        details: dict[str, Any] = {
            "overdue_tasks": len(status.overdue) + (1 if status.more_overdue else 0)
        }
        if status.last_pass:
            details.update(
                last_pass_at=status.last_pass.finished_at.isoformat(),
                last_pass_host=status.last_pass.host,
            )
        return [
            Alert(
                SILENT,
                _("[scheduler] The scheduler is silent"),
                status.silence_line(),
                now,
                details=details,
            )
        ]
    if not settings.wants(OVERDUE) or not status.overdue:
        return []
    alerts = [overdue_alert(item, now) for item in status.overdue]
    # An overdue task stays overdue pass after pass: skip the recently alerted ones in one query.
    recent = ratelimit.recently_sent([a.key for a in alerts], now, settings.rate_limit)
    return [a for a in alerts if a.key not in recent]


# -- pass hooks ----------------------------------------------------------------------


def before_pass(scheduler_pass: Any) -> None:
    if config.get().enabled:
        _local.queue = getattr(_local, "queue", None) or []


def after_pass(scheduler_pass: Any, report: Any) -> None:
    """Send the alerts collected during the pass and those for overdue tasks."""
    queued = getattr(_local, "queue", None) or []
    _local.queue = None
    settings = config.get()
    if not settings.enabled:
        return
    found = list(queued)
    if settings.wants(OVERDUE):
        now = getattr(getattr(scheduler_pass, "options", None), "now", None) or timezone.now()
        overdue, _more = watchdog.overdue_tasks(now)
        alerts = [overdue_alert(item, now) for item in overdue]
        recent = ratelimit.recently_sent([a.key for a in alerts], now, settings.rate_limit)
        found += [a for a in alerts if a.key not in recent]
    if found:
        send(found)


# -- wiring --------------------------------------------------------------------------


def connect() -> None:
    """Listen to failures only while alerts are on (a listener makes the engine build signal data).

    Reads the raw setting: filling the cached settings from inside a
    ``setting_changed`` receiver would keep them past a later change.
    """
    from scheduler_app import conf

    if config.enabled_in(conf.user_settings().get("ALERTS")):
        signals.task_failed.connect(on_task_failed, dispatch_uid=_UID)
    else:
        signals.task_failed.disconnect(dispatch_uid=_UID)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "SCHEDULER":
        connect()


def wire() -> None:
    from scheduler_app.engine import hooks

    hooks.register_before_pass(before_pass)
    hooks.register_after_pass(after_pass)
    setting_changed.connect(_on_setting_changed, dispatch_uid=_UID)
    connect()

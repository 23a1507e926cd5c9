"""What raises alerts: failed and abandoned runs, the pass hooks and the watchdog command.

Failed runs reach :func:`on_runs_failed` inside the transaction that records
them (the engine's ``runs_failed`` hook): their alerts are written to the
outbox (:mod:`scheduler_app.monitoring.alerts.outbox`) and commit with the runs. After a
pass, overdue tasks are added and a thread delivers the outbox while the
next pass goes on.

The outbox, the rate limit and the watchdog are imported where an alert is raised:
every process wires the triggers, and a site without alerts raises none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.core.signals import setting_changed
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app.engine.hooks import FailedRun
from scheduler_app.monitoring.alerts import config
from scheduler_app.monitoring.alerts.alert import Alert
from scheduler_app.monitoring.alerts.config import ABANDONED, FAILED, OVERDUE, SILENT, STREAK
from scheduler_app.policy import scrubbing

if TYPE_CHECKING:
    from scheduler_app.monitoring import watchdog

logger = logging.getLogger("scheduler_app.alerts")

_UID = "scheduler_app.alerts"
ERROR_CHARS = 500


# -- failed and abandoned runs ----------------------------------------------------------


def failure_alerts(run: FailedRun, now: dt.datetime) -> list[Alert]:
    """The alerts a failed run raises: permanent failure (or abandoned), failure streak."""
    settings = config.get()
    error = (run.error.strip().splitlines() or [""])[0][:ERROR_CHARS]
    common: dict[str, Any] = {
        "task_id": run.task_id,
        "task_name": run.name,
        "module_id": run.module_id,
        "task_type": run.task_type,
        "owner_id": run.owner_id,
        "at": now,
    }
    details: dict[str, Any] = {
        "run": run.run_id,
        "status": run.status,
        "error": error,
        "consecutive_failures": run.failure_streak,
    }
    if run.scheduled_for:
        details["scheduled_for"] = run.scheduled_for.isoformat()
    found = []
    names = {"name": run.name, "status": run.status, "error": error or _("no message")}
    if run.status == ABANDONED:
        if settings.wants(ABANDONED):
            retried = _("It will be retried.") if run.retry_count else _("It will not be retried.")
            found.append(
                Alert(
                    ABANDONED,
                    _("[scheduler] A run of “%(name)s” was abandoned") % names,
                    _(
                        "The scheduler running “%(name)s” stopped before the run ended "
                        "(killed, out of memory or its host lost); the run was abandoned."
                    )
                    % names
                    + " "
                    + retried,
                    details=dict(details),
                    **common,
                )
            )
    # After a failure, a retry_count of 0 means no retry was planned: the failure is final.
    elif settings.wants(FAILED) and run.retry_count == 0:
        found.append(
            Alert(
                FAILED,
                _("[scheduler] “%(name)s” failed") % names,
                _("A run of “%(name)s” ended %(status)s and will not be retried: %(error)s")
                % names,
                details=dict(details),
                **common,
            )
        )
    if settings.wants(STREAK) and run.failure_streak >= settings.failure_streak:
        found.append(
            Alert(
                STREAK,
                _("[scheduler] “%(name)s” failed %(count)d times in a row")
                % {"name": run.name, "count": run.failure_streak},
                _("The last %(count)d runs of “%(name)s” failed; the last error: %(error)s")
                % {"count": run.failure_streak, **names},
                details=dict(details),
                **common,
            )
        )
    return found


def on_runs_failed(runs: list[FailedRun], now: dt.datetime) -> None:
    """The engine's ``runs_failed`` hook: write the alerts of ``runs`` to the outbox."""
    from scheduler_app.monitoring.alerts import outbox

    found = [alert for run in masked(runs) for alert in failure_alerts(run, now)]
    outbox.enqueue(found, now=now)


def masked(runs: list[FailedRun]) -> list[FailedRun]:
    """``runs`` with their tasks' secrets masked in the errors (a body may echo a secret it
    was given; the alert leaves for e-mail and webhooks). One query for all the tasks."""
    from scheduler_app.models import ScheduledTask

    if not runs:
        return runs
    tasks = ScheduledTask.objects.filter(pk__in={run.task_id for run in runs}).only(
        "pk", "module_id", "task_type", "config"
    )
    secrets = {task.pk: scrubbing.secret_values(task) for task in tasks}
    return [
        dataclasses.replace(run, error=scrubbing.scrub(run.error or "", secrets[run.task_id]))
        if secrets.get(run.task_id)
        else run
        for run in runs
    ]


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
    from scheduler_app.monitoring.alerts import ratelimit

    alerts = [overdue_alert(item, now) for item in status.overdue]
    # An overdue task stays overdue pass after pass: skip the recently alerted ones in one query.
    recent = ratelimit.recently_sent([a.key for a in alerts], now, settings.rate_limit)
    return [a for a in alerts if a.key not in recent]


# -- pass hooks ----------------------------------------------------------------------


def after_pass(scheduler_pass: Any, report: Any) -> None:
    """Add the alerts for overdue tasks, then deliver the outbox off the pass."""
    settings = config.get()
    if not settings.enabled:
        return
    from scheduler_app.monitoring import watchdog
    from scheduler_app.monitoring.alerts import outbox, ratelimit

    if settings.wants(OVERDUE):
        now = getattr(getattr(scheduler_pass, "options", None), "now", None) or timezone.now()
        overdue, _more = watchdog.overdue_tasks(now)
        alerts = [overdue_alert(item, now) for item in overdue]
        keys = [a.key for a in alerts]
        # Overdue stays overdue pass after pass: not again while one waits or went out lately.
        skip = ratelimit.recently_sent(keys, now, settings.rate_limit) | outbox.pending_keys(keys)
        outbox.enqueue([a for a in alerts if a.key not in skip], now=now)
    # Once the rows are committed (at once, outside a transaction).
    transaction.on_commit(outbox.deliver_in_background)


# -- wiring --------------------------------------------------------------------------


def connect() -> None:
    """Hook into the recording of failed runs only while alerts are on.

    Reads the raw setting: filling the cached settings from inside a
    ``setting_changed`` receiver would keep them past a later change.
    """
    from scheduler_app import conf
    from scheduler_app.engine import hooks

    if config.enabled_in(conf.user_settings().get("ALERTS")):
        hooks.register_runs_failed(on_runs_failed)
    else:
        hooks.unregister_runs_failed(on_runs_failed)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "SCHEDULER":
        connect()


def wire() -> None:
    from scheduler_app.engine import hooks

    hooks.register_after_pass(after_pass)
    setting_changed.connect(_on_setting_changed, dispatch_uid=_UID)
    connect()

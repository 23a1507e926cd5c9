"""Alerts: on a permanent failure, a failure streak, an overdue task and a silent scheduler.

Channels (each optional, in ``SCHEDULER["ALERTS"]``): e-mail to the task's
owner and the module admins, and a JSON webhook. Alerts are rate-limited per
task and kind (:mod:`scheduler_app.monitoring.alerts.ratelimit`). Run failures come from
the lifecycle signals; during a scheduler pass they are collected and sent
after it, with the overdue tasks the watchdog finds (an after-pass hook), so
a slow mail server or webhook never holds up the runs. ``manage.py
scheduler_watchdog --alert`` (from cron, ideally on another host) reports a
silent scheduler. Delivery never raises.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.db import DatabaseError

from scheduler_app.monitoring.alerts import channels, config, ratelimit, recipients
from scheduler_app.monitoring.alerts.alert import Alert
from scheduler_app.monitoring.alerts.config import FAILED, KINDS, OVERDUE, SILENT, STREAK

__all__ = ["FAILED", "KINDS", "OVERDUE", "SILENT", "STREAK", "Alert", "deliver", "send", "wire"]

logger = logging.getLogger("scheduler_app.alerts")


def send(
    alerts: Iterable[Alert],
    *,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[Alert]:
    """Rate-limit and deliver ``alerts``; return those that went out."""
    settings = config.get()
    sent: list[Alert] = []
    for alert in alerts:
        if not settings.wants(alert.kind):
            continue
        try:
            admitted, held_back = ratelimit.admit(alert.key, now or alert.at, settings.rate_limit)
        except DatabaseError:
            logger.warning(
                "Alert rate limit unavailable; sending %s anyway.", alert.key, exc_info=True
            )
            admitted, held_back = True, 0
        if not admitted:
            logger.info("Alert %s held back by the rate limit.", alert.key)
            continue
        alert.suppressed = held_back
        deliver(alert, settings, sleep=sleep)
        sent.append(alert)
    return sent


def deliver(
    alert: Alert,
    settings: config.AlertSettings | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Send ``alert`` through every configured channel (no rate limit here)."""
    settings = settings or config.get()
    if settings.email:
        try:
            to = (
                recipients.for_task(alert.module_id, alert.owner_id)
                if alert.task_id is not None
                else recipients.for_scheduler()
            )
        except DatabaseError:
            logger.warning(
                "Could not look up who to mail the %s alert to.", alert.key, exc_info=True
            )
            to = []
        channels.send_email(alert, [*to, *settings.email_to], settings)
    if settings.webhook_url:
        if sleep is None:
            channels.post_webhook(alert, settings)
        else:
            channels.post_webhook(alert, settings, sleep=sleep)


def wire() -> None:
    """Connect the alert triggers (from ``AppConfig.ready()``); follows SCHEDULER changes."""
    from scheduler_app.monitoring.alerts import triggers

    triggers.wire()

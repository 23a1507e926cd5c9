"""Alerts: on a permanent failure, a failure streak, an abandoned run, an overdue task and a
silent scheduler.

Channels (each optional, in ``SCHEDULER["ALERTS"]``): e-mail to the task's
owner and the module admins, and a JSON webhook. Alerts are rate-limited per
task and kind (:mod:`scheduler_app.monitoring.alerts.ratelimit`). The alerts of failed
and abandoned runs are written to an outbox in the transaction that records
the runs, and delivered by a thread after the pass, so a slow mail server or
a dead webhook never holds up the runs and no alert is lost when the
scheduler stops (:mod:`scheduler_app.monitoring.alerts.outbox`). ``manage.py
scheduler_watchdog --alert`` (from cron, ideally on another host) reports a
silent scheduler. Delivery never raises.

Every process wires the triggers; the outbox and the channels are imported when an
alert is sent, so a process (or a site) that sends none does not load them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.db import DatabaseError

from scheduler_app.monitoring.alerts import config
from scheduler_app.monitoring.alerts.alert import Alert
from scheduler_app.monitoring.alerts.config import ABANDONED, FAILED, KINDS, OVERDUE, SILENT, STREAK

__all__ = [
    "ABANDONED",
    "FAILED",
    "KINDS",
    "OVERDUE",
    "SILENT",
    "STREAK",
    "Alert",
    "deliver",
    "send",
    "wire",
]

logger = logging.getLogger("scheduler_app.alerts")


def send(
    alerts: Iterable[Alert],
    *,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[Alert]:
    """Write ``alerts`` to the outbox and deliver them now, retries included; return those
    that went out (rate-limited ones do not)."""
    from scheduler_app.monitoring.alerts import outbox

    settings = config.get()
    wanted = [alert for alert in alerts if settings.wants(alert.kind)]
    return outbox.deliver_now(outbox.enqueue(wanted, now=now), now=now, sleep=sleep)


def deliver(
    alert: Alert,
    settings: config.AlertSettings | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Send ``alert`` through every configured channel (no rate limit here)."""
    from scheduler_app.monitoring.alerts import recipients, senders

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
        senders.send_email(alert, [*to, *settings.email_to], settings)
    if settings.webhook_url:
        if sleep is None:
            senders.post_webhook(alert, settings)
        else:
            senders.post_webhook(alert, settings, sleep=sleep)


def wire() -> None:
    """Connect the alert triggers (from ``AppConfig.ready()``); follows SCHEDULER changes."""
    from scheduler_app.monitoring.alerts import triggers

    triggers.wire()

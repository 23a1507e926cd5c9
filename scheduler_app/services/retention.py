"""Log retention: delete run logs, heartbeats, undelivered alerts and webhook deliveries
older than the settings keep them.

``manage.py scheduler_prune`` and the nightly system task both call :func:`prune`
and print or return its sentences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import conf
from scheduler_app.models import PendingAlert, RunStatus, SchedulerHeartbeat, TaskExecutionLog
from scheduler_app.services import inbound_hooks

#: Log rows deleted per statement: small chunks keep each transaction short on a big table.
CHUNK = 5000


@dataclass(frozen=True)
class PruneReport:
    """What :func:`prune` deleted (or, in a dry run, would delete from the logs)."""

    days: int
    logs: int
    dry_run: bool = False
    heartbeats: int = 0
    alerts: int = 0
    deliveries: int = 0

    def lines(self) -> list[str]:
        """The report as sentences, one per kind of row touched."""
        if self.dry_run:
            return [f"{self.logs} log row(s) older than {self.days} day(s) would be deleted."]
        lines = [f"Deleted {self.logs} log row(s) older than {self.days} day(s)."]
        if self.heartbeats:
            lines.append(f"Deleted {self.heartbeats} scheduler heartbeat(s).")
        if self.alerts:
            lines.append(f"Deleted {self.alerts} undelivered alert(s) older than the heartbeats.")
        if self.deliveries:
            lines.append(f"Deleted {self.deliveries} webhook delivery log row(s).")
        return lines


def prune(
    days: int | None = None, *, dry_run: bool = False, now: dt.datetime | None = None
) -> PruneReport:
    """Delete what is older than ``days`` (default ``SCHEDULER["LOG_RETENTION_DAYS"]``).

    Run logs and webhook deliveries follow ``days``; heartbeats and undelivered alerts
    follow ``HEARTBEAT_RETENTION_DAYS``. A dry run counts the run logs and deletes nothing.

    Raises:
        ValidationError: on ``days`` for a negative number.
    """
    settings = conf.get()
    days = settings.LOG_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValidationError({"days": _("Keep logs for 0 days or more.")}, code="min_value")
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    # Open rows belong to live runs; the engine closes them.
    old = TaskExecutionLog.objects.filter(started_at__lt=cutoff).exclude(status=RunStatus.RUNNING)
    if dry_run:
        return PruneReport(days=days, logs=old.count(), dry_run=True)
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:CHUNK]):
        deleted += TaskExecutionLog.objects.filter(pk__in=ids).delete()[0]
    stale = now - dt.timedelta(days=settings.HEARTBEAT_RETENTION_DAYS)
    return PruneReport(
        days=days,
        logs=deleted,
        heartbeats=SchedulerHeartbeat.objects.filter(finished_at__lt=stale).delete()[0],
        # Alerts written while delivery was on and never sent (alerts turned off since, or
        # every channel gone) would wait forever; one that old tells no one anything now.
        alerts=PendingAlert.objects.filter(created_at__lt=stale).delete()[0],
        deliveries=inbound_hooks.prune_deliveries(cutoff),
    )

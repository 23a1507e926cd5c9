"""Delete old execution logs (log retention)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduler_app import conf
from scheduler_app.models import PendingAlert, RunStatus, SchedulerHeartbeat, TaskExecutionLog
from scheduler_app.services import inbound_hooks

CHUNK = 5000


class Command(BaseCommand):
    help = (
        "Delete execution logs older than --days (default SCHEDULER['LOG_RETENTION_DAYS']), "
        "and heartbeats and undelivered alerts older than HEARTBEAT_RETENTION_DAYS."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        days = options["days"] if options["days"] is not None else conf.get().LOG_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        cutoff = timezone.now() - dt.timedelta(days=days)
        # Open rows belong to live runs; the engine closes them.
        old = TaskExecutionLog.objects.filter(started_at__lt=cutoff).exclude(
            status=RunStatus.RUNNING
        )
        if options["dry_run"]:
            self.stdout.write(
                f"{old.count()} log row(s) older than {days} day(s) would be deleted."
            )
            return
        deleted = 0
        while True:
            # Small chunks keep each transaction short on a big table.
            ids = list(old.values_list("pk", flat=True)[:CHUNK])
            if not ids:
                break
            deleted += TaskExecutionLog.objects.filter(pk__in=ids).delete()[0]
        self.stdout.write(f"Deleted {deleted} log row(s) older than {days} day(s).")
        stale = timezone.now() - dt.timedelta(days=conf.get().HEARTBEAT_RETENTION_DAYS)
        beats = SchedulerHeartbeat.objects.filter(finished_at__lt=stale).delete()[0]
        if beats:
            self.stdout.write(f"Deleted {beats} scheduler heartbeat(s).")
        # Alerts written while delivery was on and never sent (alerts turned off since, or
        # every channel gone) would wait forever; one that old tells no one anything now.
        alerts = PendingAlert.objects.filter(created_at__lt=stale).delete()[0]
        if alerts:
            self.stdout.write(f"Deleted {alerts} undelivered alert(s) older than the heartbeats.")
        deliveries = inbound_hooks.prune_deliveries(cutoff)
        if deliveries:
            self.stdout.write(f"Deleted {deliveries} webhook delivery log row(s).")

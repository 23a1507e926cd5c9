"""Report a silent scheduler and overdue tasks; with --alert, send the alerts for them.

Run it from cron on another host than the scheduler (or at least outside its
process), e.g. every five minutes: ``manage.py scheduler_watchdog --alert``.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from scheduler_app.monitoring import watchdog


class Command(BaseCommand):
    help = (
        "Report whether a scheduler is passing and which tasks are overdue; exit 1 when not "
        "healthy. --alert sends the configured alerts (SCHEDULER['ALERTS'])."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--alert",
            action="store_true",
            help="Send alerts for a silent scheduler or overdue tasks (rate-limited).",
        )
        parser.add_argument("--json", action="store_true", help="Print the status as JSON.")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        status = watchdog.status()
        if options["alert"]:
            from scheduler_app.monitoring.alerts import send
            from scheduler_app.monitoring.alerts.triggers import watchdog_alerts

            for alert in send(watchdog_alerts(status)):
                self.stderr.write(f"Alert sent: {alert.subject}")
        if options["json"]:
            self.stdout.write(json.dumps(status.as_json(), indent=2))
        elif status.healthy:
            last = status.last_pass
            when = (
                f"last pass {last.finished_at:%Y-%m-%d %H:%M:%S %Z} on {last.host}"
                if last
                else "no pass recorded yet, nothing due"
            )
            self.stdout.write(f"Scheduler healthy: {when}; no task is overdue.")
        else:
            for line in status.lines():
                self.stdout.write(line)
        if not status.healthy:
            sys.exit(1)

"""Delete old execution logs (log retention): :func:`scheduler_app.services.retention.prune`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from scheduler_app.services import retention


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
        try:
            report = retention.prune(options["days"], dry_run=options["dry_run"])
        except ValidationError:
            # The one input the service checks; said as the option is spelt here.
            raise CommandError("--days must be 0 or more.") from None
        for line in report.lines():
            self.stdout.write(line)

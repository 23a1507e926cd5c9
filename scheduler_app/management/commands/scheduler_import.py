"""Create or update scheduled tasks from a scheduler_export file; --dry-run shows the diff only."""

from __future__ import annotations

import json
import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from scheduler_app import transfer
from scheduler_app.management.acting import acting_user, add_as_user_argument


class Command(BaseCommand):
    help = (
        "Import tasks exported by scheduler_export: new tasks are created, tasks with the same "
        "module, type and name are updated. All or nothing. Masked secrets keep the stored ones."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("file", help="The export file, or - for standard input.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would change and check it, but save nothing.",
        )
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        try:
            if options["file"] == "-":
                data = json.load(sys.stdin)
            else:
                with open(options["file"], encoding="utf-8") as handle:
                    data = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{options['file']} is not JSON: {exc}") from None
        try:
            report = transfer.import_schedules(data, user=user, dry_run=options["dry_run"])
        except ValidationError as exc:
            raise CommandError("Nothing was imported:\n  " + "\n  ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        self.stdout.write(report.text())

"""Create or update scheduled tasks from a scheduler_export file; --dry-run shows the diff only."""

from __future__ import annotations

import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from scheduler_app import conf
from scheduler_app.management.acting import AuditedCommand, acting_user, add_as_user_argument
from scheduler_app.services import transfer, transfer_file


class Command(AuditedCommand):
    audit_source = "import"  # tasks it creates or changes say "from an import"

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
        parser.add_argument(
            "--ignore-unknown-keys",
            action="store_true",
            help="Import a file with keys this version does not know, listing them as warnings "
            "(without it such a file is refused, naming the keys).",
        )
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        raw = self._read(options["file"])
        try:
            data = transfer_file.read(raw)
            report = transfer.import_schedules(
                data,
                user=user,
                dry_run=options["dry_run"],
                allow_unknown_keys=options["ignore_unknown_keys"],
            )
        except ValidationError as exc:
            raise CommandError("Nothing was imported:\n  " + "\n  ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        self.stdout.write(report.text())

    def _read(self, name: str) -> bytes:
        """At most one byte more than IMPORT_MAX_BYTES: enough to tell a file is too large."""
        limit = conf.get().IMPORT_MAX_BYTES
        try:
            if name == "-":
                return sys.stdin.buffer.read(limit + 1)
            with open(name, "rb") as handle:
                return handle.read(limit + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror or exc}") from None

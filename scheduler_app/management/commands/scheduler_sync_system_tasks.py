"""Create and update the system tasks the modules declare (as ``migrate`` does)."""

from __future__ import annotations

from django.core.management.base import CommandError

from scheduler_app.management.acting import AuditedCommand
from scheduler_app.services import system_tasks


class Command(AuditedCommand):
    audit_source = "system"  # the modules' own tasks, kept by the system

    help = (
        "Create the system tasks declared by the installed modules, apply changed "
        "declarations and disable those no longer declared."
    )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        report = system_tasks.sync()
        for label, keys in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("retired", report.retired),
        ):
            for key in keys:
                self.stdout.write(f"{label:>9}  {key}")
        self.stdout.write(
            f"System tasks: {len(report.created)} created, {len(report.updated)} "
            f"updated, {len(report.unchanged)} unchanged, {len(report.retired)} retired."
        )
        if report.errors:
            for key, error in report.errors.items():
                self.stderr.write(f"{key}: {error}")
            raise CommandError(f"{len(report.errors)} system task(s) could not be synced.")

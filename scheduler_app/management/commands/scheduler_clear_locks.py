"""Clear overlap locks left behind (e.g. after a host was lost)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from scheduler_app import services
from scheduler_app.management.acting import (
    AuditedCommand,
    acting_user,
    add_as_user_argument,
    one_line,
    task_for,
)
from scheduler_app.models import ScheduledTask


class Command(AuditedCommand):
    help = (
        "Clear the overlap lock of one task, or of every task that is not running. With "
        "--as-user, only locks that user may clear (module and scheduler administrators)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("task_id", nargs="?", type=int)
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        if options["task_id"] is not None:
            task = task_for(options["task_id"], user)
            try:
                held = services.clear_lock(task, user=user)
            except ScheduledTask.DoesNotExist:
                raise CommandError(f"No scheduled task with id {task.pk}.") from None
            except PermissionDenied as exc:
                raise CommandError(f"Task {task.pk}: {one_line(exc)}") from None
            self.stdout.write(f"Task {task.pk}: lock {'cleared' if held else 'was not held'}.")
            return
        try:
            cleared = services.clear_locks(user=user)
        except PermissionDenied as exc:
            raise CommandError(one_line(exc)) from None
        self.stdout.write(f"Cleared {cleared} lock(s).")

"""Run one chosen task now, by id, and wait for its result.

A one-task pass in this process (it respects the overlap lock unless --force);
not the scheduler itself, which is ``runscheduler``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from scheduler_app import services
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.management.acting import (
    AuditedCommand,
    acting_user,
    add_as_user_argument,
    object_id,
    one_line,
    task_for,
)
from scheduler_app.management.live_progress import LiveProgress, make_display
from scheduler_app.models import TaskExecutionLog


class Command(AuditedCommand):
    help = (
        "Run one chosen task now, by id, and wait for its result. "
        "(The scheduler that runs every due task is runscheduler.)"
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("task_id", type=object_id)
        parser.add_argument(
            "--force", action="store_true", help="Run even if the task's overlap lock is held."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Worker processes (0 runs the body in this process).",
        )
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        task = task_for(options["task_id"], user)
        try:
            services.run_now(task, user=user)
        except ValidationError as exc:
            if not _already_queued(exc):
                raise CommandError(one_line(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(one_line(exc)) from None
        pass_options = PassOptions(
            filters=Filters(task_ids=(task.pk,)),
            workers=options["workers"],
            force=options["force"],
        )
        if options["verbosity"] >= 1:
            with LiveProgress(make_display(self.stdout), task_ids=(task.pk,)):
                report = run_pass(pass_options)
        else:
            report = run_pass(pass_options)
        log = TaskExecutionLog.objects.filter(task=task).newest_first().first()
        if report.claimed == 0 or log is None:
            raise CommandError(
                f"Task {task.pk} was not run (its lock is held by another run; "
                "use --force to run anyway)."
            )
        line = f"#{task.pk} {task.name}: {log.status} ({(log.duration or 0):.2f} s)"
        if log.error_message:
            line += f" - {log.error_message.splitlines()[0][:200]}"
        self.stdout.write(line)
        if log.status not in ("success", "skipped"):
            raise CommandError(f"Task {task.pk} ended {log.status}.")


def _already_queued(error: ValidationError) -> bool:
    """run_now refused because the task is already due on request: run it all the same."""
    codes = {e.code for errors in getattr(error, "error_dict", {}).values() for e in errors}
    return codes == {services.NO_CHANGE}

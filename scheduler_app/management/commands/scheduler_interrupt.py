"""Stop a running run: the scheduler running it stops its worker; the scheduler goes on."""

from __future__ import annotations

import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.db.models import QuerySet

from scheduler_app import policy, services
from scheduler_app.bounds import MAX_ID_DIGITS
from scheduler_app.management.acting import (
    AuditedCommand,
    acting_user,
    add_as_user_argument,
    one_line,
)
from scheduler_app.models import RunStatus, TaskExecutionLog

OPEN = (RunStatus.RUNNING, RunStatus.ENQUEUED)


class Command(AuditedCommand):
    help = (
        "Stop a running run (RUN_ID: the run id from the log, or the log's number). The "
        "worker gets SIGTERM, then SIGKILL after SCHEDULER['INTERRUPT_GRACE'] seconds; the log "
        "ends cancelled, naming who stopped it."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("run_id", metavar="RUN_ID")
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Wait up to this long for the run to end and print how it ended.",
        )
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        log = self._find(options["run_id"].strip(), user)
        try:
            services.interrupt(log, user=user)
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(f"Run {log.run_id} of task {log.task_id}: {one_line(exc)}") from None
        self.stdout.write(
            f"Asked the scheduler to stop run {log.run_id} of #{log.task_id} {log.task.name}."
        )
        if options["wait"] > 0:
            self._wait(log, options["wait"])

    def _find(self, key: str, user) -> TaskExecutionLog:  # noqa: ANN001
        logs: QuerySet[TaskExecutionLog] = TaskExecutionLog.objects.select_related("task")
        if user is not None:
            logs = policy.viewable_logs(user, logs)
        log = logs.filter(run_id=key).first()
        if log is None and key.isascii() and key.isdigit() and len(key) <= MAX_ID_DIGITS:
            log = logs.filter(pk=int(key)).first()
        if log is None:
            shown = key if len(key) <= 40 else key[:40] + "…"
            raise CommandError(
                f"No run {shown!r}" + (" that you may see." if user is not None else ".")
            )
        return log

    def _wait(self, log: TaskExecutionLog, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            log.refresh_from_db(fields=["status", "error_message"])
            if log.status not in OPEN:
                self.stdout.write(
                    f"Run {log.run_id} ended {log.status}: {log.error_message}".rstrip(": ")
                )
                return
            if time.monotonic() >= deadline:
                raise CommandError(f"Run {log.run_id} is still {log.status} after {seconds:g} s.")
            time.sleep(0.2)

"""List scheduled tasks: schedule in words, next run, last status."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from django.core.management.base import BaseCommand
from django.utils import timezone

from scheduler_app import policy, services
from scheduler_app.management.acting import acting_user, add_as_user_argument
from scheduler_app.models import ScheduledTask, TaskStatus
from scheduler_app.presentation.display import format_when, relative

if TYPE_CHECKING:
    from scheduler_app.models import ScheduledTaskQuerySet


class Command(BaseCommand):
    help = "List scheduled tasks with their schedule, next run and last status."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--json", action="store_true", help="Print JSON (one array).")
        parser.add_argument("--module", help="Only tasks of this module.")
        parser.add_argument(
            "--status", choices=TaskStatus.values, help="Only tasks in this status."
        )
        parser.add_argument("--tag", help="Only tasks with this tag.")
        parser.add_argument(
            "--limit", type=int, default=500, help="At most this many rows (default 500)."
        )
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        qs = (
            ScheduledTask.objects.all()
            if user is None
            else cast("ScheduledTaskQuerySet", policy.viewable_queryset(user))
        )
        if options["module"]:
            qs = qs.for_module(options["module"])
        if options["status"]:
            qs = qs.filter(status=options["status"])
        if options["tag"]:
            qs = qs.with_tag(options["tag"])
        qs = qs.order_by("module_id", "priority", "next_run", "pk")[: max(0, options["limit"])]
        now = timezone.now()
        rows = []
        for task in qs.iterator(chunk_size=500):
            rows.append(
                {
                    "id": task.pk,
                    "name": task.name,
                    "module": task.module_id,
                    "task_type": task.task_type,
                    "schedule": task.describe_schedule(),
                    "status": task.status,
                    "enabled": task.enabled,
                    "next_run": task.next_run.isoformat() if task.next_run else None,
                    "next_run_local": format_when(task.next_run, task) if task.next_run else None,
                    "next_run_relative": relative(task.next_run, now) if task.next_run else "-",
                    "last_run": task.last_run.isoformat() if task.last_run else None,
                    "last_status": task.last_status or None,
                    "priority": task.priority,
                    "tags": task.tags,
                    "config": services.visible_config(task),
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No scheduled tasks.")
            return
        headers = ("ID", "NAME", "TASK", "SCHEDULE", "NEXT RUN", "STATUS", "LAST")
        table = [headers] + [
            (
                str(r["id"]),
                r["name"],
                f"{r['module']}.{r['task_type']}",
                r["schedule"],
                f"{r['next_run_local']} ({r['next_run_relative']})" if r["next_run_local"] else "-",
                r["status"] + ("" if r["enabled"] else " (disabled)"),
                r["last_status"] or "-",
            )
            for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        for row in table:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

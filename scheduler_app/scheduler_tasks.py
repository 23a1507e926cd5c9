"""scheduler_app's own tasks: maintenance, declared as system tasks of every installation.

Autodiscovered like any module's ``scheduler_tasks``. Importing
:mod:`scheduler_app.services.system_tasks` here connects the sync to ``post_migrate``.
"""

from __future__ import annotations

import io
from typing import ClassVar

from django import forms
from django.core.management import call_command
from django.utils.translation import gettext_lazy as _

from scheduler_app.context import TaskContext
from scheduler_app.providers import SchedulableTask, SystemTask, TaskProvider, TaskResult
from scheduler_app.registry import register
from scheduler_app.services import system_tasks  # noqa: F401 - syncs system tasks after migrate


class PruneLogsForm(forms.Form):
    days = forms.IntegerField(
        label=_("Keep days"),
        required=False,
        min_value=0,
        help_text=_(
            "Delete execution logs older than this. Empty: SCHEDULER['LOG_RETENTION_DAYS']."
        ),
    )


class PruneLogs(SchedulableTask):
    name = "Prune old execution logs"
    description = (
        "Delete execution logs older than the retention period (manage.py scheduler_prune)."
    )
    config_form = PruneLogsForm
    default_max_retries = 1

    def execute(self, context: TaskContext) -> TaskResult:
        out = io.StringIO()
        days = context.config.get("days")
        call_command("scheduler_prune", days=days, stdout=out)
        report = " ".join(line.strip() for line in out.getvalue().splitlines() if line.strip())
        return TaskResult.success(report or "Nothing to prune.", data={"days": days})


@register
class SchedulerMaintenanceProvider(TaskProvider):
    module_id = "scheduler"
    name = "Scheduler maintenance"
    base_permission = "SA_SCHEDULER_MAINTENANCE"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {"prune_logs": PruneLogs}
    system_tasks: ClassVar[dict[str, SystemTask]] = {
        # scheduler_prune, nightly, at a quiet hour.
        "prune": SystemTask(
            task_type="prune_logs",
            name="Delete old execution logs",
            cron="30 3 * * *",
            priority=9,
        ),
    }

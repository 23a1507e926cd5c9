"""The columns and read-only fields of the task admin: names, schedule, labelled times, config."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler_app import schedules, services
from scheduler_app.models import ScheduledTask, ScheduleType
from scheduler_app.presentation import display
from scheduler_app.registry import registry
from scheduler_app.services.calendars import blackout_notes

#: The form fields each schedule type uses; the task page shows only these (task_form.js reads
#: this mapping from the page; read-only pages leave the others out on the server).
FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    value: schedules.columns_for(value) for value in ScheduleType.values
}
TYPE_FIELDS = schedules.TYPE_COLUMNS


def without_unused_schedule_fields(fieldsets: Any, schedule_type: str) -> list[Any]:
    """``fieldsets`` minus the schedule fields ``schedule_type`` does not use."""
    unused = set(TYPE_FIELDS) - set(FIELDS_BY_TYPE.get(schedule_type, TYPE_FIELDS))
    return [
        (name, {**options, "fields": [f for f in options["fields"] if f not in unused]})
        for name, options in fieldsets
    ]


class TaskColumns:
    """Mixed into ScheduledTaskAdmin: every time is shown in the task's own zone, labelled."""

    @admin.display(description=gettext_lazy("module"), ordering="module_id")
    def module_display(self, obj: ScheduledTask) -> str:
        if registry.is_registered(obj.module_id):
            return str(registry.get(obj.module_id).verbose_name())
        return obj.module_id

    @admin.display(description=gettext_lazy("task type"), ordering="task_type")
    def task_type_display(self, obj: ScheduledTask) -> str:
        try:
            return str(registry.get_task_type(obj.module_id, obj.task_type).name or obj.task_type)
        except Exception:  # noqa: BLE001 - a task of an uninstalled module still lists
            return obj.task_type

    @admin.display(description=gettext_lazy("name"), ordering="name")
    def name_display(self, obj: ScheduledTask) -> str:
        """The name, linked to the task page, with its task type and module below it."""
        url = reverse("admin:scheduler_app_scheduledtask_change", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a><br><span class="sched-muted">{} · {}</span>',
            url,
            obj.name,
            self.task_type_display(obj),
            self.module_display(obj),
        )

    @admin.display(description=gettext_lazy("schedule"))
    def schedule_display(self, obj: ScheduledTask) -> str:
        return display.describe_schedule(obj)

    @admin.display(description=gettext_lazy("next run"), ordering="next_run")
    def next_run_display(self, obj: ScheduledTask) -> str:
        return display.when_with_relative(obj.next_run, obj)

    @admin.display(description=gettext_lazy("last run"), ordering="last_run")
    def last_run_display(self, obj: ScheduledTask) -> str:
        if obj.last_run is None:
            return display.badge("")
        return format_html(
            "{} {}", display.badge(obj.last_status), display.when_with_relative(obj.last_run, obj)
        )

    # The task's times in its own zone, labelled (Django would show them in TIME_ZONE, unlabelled).
    @admin.display(description=gettext_lazy("next run"))
    def next_run_when(self, obj: ScheduledTask) -> str:
        return display.when_with_relative(obj.next_run, obj)

    @admin.display(description=gettext_lazy("last run"))
    def last_run_when(self, obj: ScheduledTask) -> str:
        return display.when_with_relative(obj.last_run, obj)

    @admin.display(description=gettext_lazy("lease expires at"))
    def lease_expires_when(self, obj: ScheduledTask) -> str:
        return display.when(obj.lease_expires_at, obj)

    @admin.display(description=gettext_lazy("created at"))
    def created_when(self, obj: ScheduledTask) -> str:
        return display.when(obj.created_at, obj)

    @admin.display(description=gettext_lazy("updated at"))
    def updated_when(self, obj: ScheduledTask) -> str:
        return display.when(obj.updated_at, obj)

    @admin.display(description=gettext_lazy("status"))
    def status_display(self, obj: ScheduledTask) -> str:
        # Marked so that the task page's live box keeps it current while a run goes on.
        return format_html("<span data-sched-task-status>{}</span>", display.badge(obj.status))

    @admin.display(description=gettext_lazy("last run status"))
    def last_status_display(self, obj: ScheduledTask) -> str:
        return display.badge(obj.last_status)

    @admin.display(description=gettext_lazy("configuration"))
    def config_display(self, obj: ScheduledTask) -> str:
        shown = services.visible_config(obj)
        if not shown:
            return format_html('<span class="sched-muted">{}</span>', _("No configuration."))
        task_type = display.task_type_of(obj)
        if task_type is None:  # an uninstalled module: its keys, every value masked
            return display.described([(key, value) for key, value in shown.items()])
        return display.described(task_type.describe_config(shown))

    @admin.display(description=gettext_lazy("next 5 runs"))
    def next_runs_display(self, obj: ScheduledTask) -> str:
        try:
            runs = services.next_runs_with_notes(task=obj, count=5)
        except (ValidationError, ValueError):
            return _("The schedule of this task is not valid.")
        if not runs:
            return _("No upcoming runs.")
        zone = obj.schedule.zone
        blackouts = blackout_notes(obj, [r.at for r in runs])
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                '<li data-dst="{}">{}{}{}</li>',
                (
                    (
                        r.dst,
                        display.format_when(r.at, zone),
                        format_html(' <span class="help sched-dst">{}</span>', r.note)
                        if r.note
                        else "",
                        format_html(
                            ' <span class="help sched-blackout">{}</span>',
                            _("skipped: %(why)s") % {"why": b},
                        )
                        if b
                        else "",
                    )
                    for r, b in zip(runs, blackouts, strict=True)
                ),
            ),
        )

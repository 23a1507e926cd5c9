"""Every task's audit events in one read-only admin list, for scheduler admins only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from scheduler_app import policy
from scheduler_app.admin.audit_trail import change_lines
from scheduler_app.admin.read_only import ReadOnlyAdmin
from scheduler_app.models import TaskAuditEvent
from scheduler_app.presentation import display
from scheduler_app.presentation.links import reverse_or_empty


class TaskAuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "at_display",
        "task_display",
        "action",
        "actor_display",
        "source",
        "changes_display",
    )
    list_filter = ("action", "source", "module_id")
    search_fields = ("task_name", "actor_name")
    date_hierarchy = "at"
    list_per_page = 50
    show_full_result_count = False  # no COUNT over the whole history on each page
    fields = (
        "at_display",
        "task_display",
        "module_id",
        "action",
        "actor_display",
        "source",
        "changes_display",
    )
    readonly_fields = fields

    def may_view(self, request: HttpRequest) -> bool:
        return policy.is_scheduler_admin(request.user)

    @admin.display(description=_("at"), ordering="at")
    def at_display(self, event: TaskAuditEvent) -> str:
        return display.when(event.at)

    @admin.display(description=_("task"), ordering="task_name")
    def task_display(self, event: TaskAuditEvent) -> str:
        url = (
            reverse_or_empty("admin:scheduler_app_scheduledtask_change", event.task_id)
            if event.task_id
            else ""
        )
        label = f"{event.task_name or event.task_ref} (#{event.task_ref})"
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description=_("by"), ordering="actor_name")
    def actor_display(self, event: TaskAuditEvent) -> str:
        return event.actor_name or str(_("the system"))

    @admin.display(description=_("changes"))
    def changes_display(self, event: TaskAuditEvent) -> str:
        return format_html_join(
            "",
            "<div><code>{}</code>: {}</div>",
            (
                (name, f"{old} → {new}" if old else new)
                for name, old, new in change_lines(event.changes)
            ),
        )

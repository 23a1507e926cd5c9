"""The Django admin of scheduler_app: the global scheduler view, task pages and dashboard."""

from django.contrib import admin

from scheduler_app.admin.audit_events import TaskAuditEventAdmin
from scheduler_app.admin.task_admin import ScheduledTaskAdmin
from scheduler_app.models import ScheduledTask, TaskAuditEvent

admin.site.register(ScheduledTask, ScheduledTaskAdmin)
admin.site.register(TaskAuditEvent, TaskAuditEventAdmin)

from scheduler_app.admin import blackouts  # noqa: E402, F401 - calendars, pause windows, feed tokens

__all__ = ["ScheduledTaskAdmin", "TaskAuditEventAdmin"]

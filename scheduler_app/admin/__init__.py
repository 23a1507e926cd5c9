"""The Django admin of scheduler_app: the global scheduler view, task pages and dashboard."""

from django.contrib import admin

from scheduler_app.admin.audit_events import TaskAuditEventAdmin
from scheduler_app.admin.task_admin import ScheduledTaskAdmin
from scheduler_app.models import ScheduledTask, TaskAuditEvent

admin.site.register(ScheduledTask, ScheduledTaskAdmin)
admin.site.register(TaskAuditEvent, TaskAuditEventAdmin)

# Registered after the task admin: calendars, pause windows and feed tokens; inbound webhooks
# and their delivery log; workflow graphs, workflow runs and approvals.
from scheduler_app.admin import blackouts, hooks, workflows  # noqa: E402, F401

__all__ = ["ScheduledTaskAdmin", "TaskAuditEventAdmin"]

"""Views of scheduler_app outside the admin: per-module scheduling pages and the preview."""

from scheduler_app.views.module_tasks import ModuleTasksView
from scheduler_app.views.preview import schedule_preview
from scheduler_app.views.scheduling import EditTaskView, ScheduleTaskView, TaskFormViewMixin

__all__ = [
    "EditTaskView",
    "ModuleTasksView",
    "ScheduleTaskView",
    "TaskFormViewMixin",
    "schedule_preview",
]

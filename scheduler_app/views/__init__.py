"""Views of scheduler_app outside the admin: per-module scheduling pages and the preview."""

from scheduler_app.views.module_tasks import ModuleTasksView, SchedulingPagesView, run_task_now
from scheduler_app.views.pages import SchedulerPageMixin, scheduler_page
from scheduler_app.views.preview import schedule_preview
from scheduler_app.views.scheduling import EditTaskView, ScheduleTaskView, TaskFormViewMixin

__all__ = [
    "EditTaskView",
    "ModuleTasksView",
    "SchedulerPageMixin",
    "SchedulingPagesView",
    "ScheduleTaskView",
    "TaskFormViewMixin",
    "run_task_now",
    "schedule_preview",
    "scheduler_page",
]

"""The reports module's own scheduling pages, built on scheduler_app's form and views."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from scheduler_app.views import ModuleTasksView, ScheduleTaskView

MODULE_ID = "reports"


class ReportScheduleView(ScheduleTaskView):
    """Schedule a report task from the reports pages, then come back to them."""

    module_id = MODULE_ID
    template_name = "reports/schedule_form.html"

    def get_success_url(self, task: Any) -> str:
        return reverse("reports:schedules")


class ReportTasksView(ModuleTasksView):
    """The reports tasks the user may see, and the reports task types they may schedule."""

    module_id = MODULE_ID
    schedule_url_name = "reports:schedule"
    table_id = "report-schedules"
    title = gettext_lazy("Scheduled reports")
    denied_message = gettext_lazy("You may not use the reports module.")


schedules = ReportTasksView.as_view()

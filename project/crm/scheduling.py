"""The CRM's own scheduling pages, built on scheduler_app's form and views."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from scheduler_app.views import ModuleTasksView, ScheduleTaskView

MODULE_ID = "crm"


class CrmScheduleView(ScheduleTaskView):
    """Schedule a CRM task from the CRM pages, then come back to them."""

    module_id = MODULE_ID
    template_name = "crm/schedule_form.html"

    def get_initial(self) -> dict[str, Any]:
        # The won-opportunity announcement only makes sense on its event.
        if self.get_task_type() == "announce_win":
            return {"schedule_type": "event", "event": "crm.opportunity.won"}
        if self.get_task_type() == "reengage_inactive":
            return {"schedule_type": "conditional", "cron": "0 9 * * 1-5"}
        return {}

    def get_success_url(self, task: Any) -> str:
        return reverse("crm:schedules")


class CrmTasksView(ModuleTasksView):
    """The crm tasks the user may see, and the crm task types they may schedule."""

    module_id = MODULE_ID
    schedule_url_name = "crm:schedule"
    table_id = "crm-schedules"
    title = gettext_lazy("CRM schedules")
    denied_message = gettext_lazy("You may not use the CRM module.")


schedules = CrmTasksView.as_view()

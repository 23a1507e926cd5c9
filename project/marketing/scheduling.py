"""The marketing module's own scheduling pages, built on scheduler_app's form and views."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from scheduler_app.views import ModuleTasksView, ScheduleTaskView

MODULE_ID = "marketing"


class MarketingScheduleView(ScheduleTaskView):
    """Schedule a marketing task from the marketing pages, then come back to them."""

    module_id = MODULE_ID
    template_name = "marketing/schedule_form.html"

    def get_initial(self) -> dict[str, Any]:
        # Publishing and the A/B steps happen once, at a chosen time.
        if self.get_task_type() in {"publish_post", "ab_send_variants", "ab_pick_winner"}:
            return {"schedule_type": "one_time"}
        if self.get_task_type() == "content_report":
            return {"schedule_type": "cron", "cron": "0 8 * * 1"}
        return {}

    def get_success_url(self, task: Any) -> str:
        return reverse("marketing:schedules")


class MarketingTasksView(ModuleTasksView):
    """The marketing tasks the user may see, and the marketing task types they may schedule."""

    module_id = MODULE_ID
    schedule_url_name = "marketing:schedule"
    table_id = "marketing-schedules"
    title = gettext_lazy("Marketing schedules")
    denied_message = gettext_lazy("You may not use the marketing module.")


schedules = MarketingTasksView.as_view()

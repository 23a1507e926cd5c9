"""The CRM's own scheduling pages, built on scheduler_app's form and views."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.registry import registry
from scheduler_app.views import ScheduleTaskView

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


@login_required
def schedules(request: HttpRequest) -> HttpResponse:
    """The CRM tasks the user may see, and the CRM task types they may schedule."""
    user = request.user
    if not (policy.is_module_user(user, MODULE_ID) or policy.is_module_admin(user, MODULE_ID)):
        raise PermissionDenied(_("You may not use the CRM module."))
    provider = registry.get(MODULE_ID)
    tasks = (
        policy.viewable_queryset(user)
        .for_module(MODULE_ID)
        .select_related("owner")
        .order_by("next_run", "pk")[:200]
    )
    task_types = [
        (key, cls)
        for key, cls in sorted(provider.task_types.items())
        if policy.can_schedule(user, MODULE_ID, key)
    ]
    return render(
        request,
        "crm/schedules.html",
        {
            "title": _("CRM schedules"),
            "tasks": tasks,
            "task_types": task_types,
        },
    )

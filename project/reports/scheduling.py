"""The reports module's own scheduling pages, built on scheduler_app's form and views."""

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

MODULE_ID = "reports"


class ReportScheduleView(ScheduleTaskView):
    """Schedule a report task from the reports pages, then come back to them."""

    module_id = MODULE_ID
    template_name = "reports/schedule_form.html"

    def get_success_url(self, task: Any) -> str:
        return reverse("reports:schedules")


@login_required
def schedules(request: HttpRequest) -> HttpResponse:
    """The report tasks the user may see, and the report task types they may schedule."""
    user = request.user
    if not (policy.is_module_user(user, MODULE_ID) or policy.is_module_admin(user, MODULE_ID)):
        raise PermissionDenied(_("You may not use the reports module."))
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
        "reports/schedules.html",
        {
            "title": _("Scheduled reports"),
            "tasks": tasks,
            "task_types": task_types,
        },
    )

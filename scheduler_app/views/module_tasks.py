"""A module's own page of its scheduled tasks (a view modules subclass), Run now from it, and
the index of the scheduling pages a user may open."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from scheduler_app import policy, services
from scheduler_app.presentation.links import reverse_or_empty
from scheduler_app.registry import registry
from scheduler_app.views.pages import SchedulerPageMixin, scheduler_page, scheduling_pages
from scheduler_app.views.scheduling import task_page_url


class ModuleTasksView(SchedulerPageMixin, LoginRequiredMixin, TemplateView):
    """The module's tasks the user may see, and the task types they may schedule.

    Subclasses set ``module_id``, ``title`` and ``denied_message``, and may set
    ``schedule_url_name`` (their own scheduling form, reversed with the task type
    key; default: scheduler_app's), ``table_id`` and ``template_name``. The
    template gets ``title``, ``rows`` (at most ``limit``, soonest first: the task,
    its page and whether the user may run or edit it) and ``task_types``
    (``(key, class, url)``).
    """

    module_id = ""
    title: Any = ""
    denied_message: Any = ""
    schedule_url_name = ""
    table_id = ""
    template_name = "scheduler_app/module_tasks.html"
    limit = 200

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        user = request.user
        if user.is_authenticated and not (
            policy.is_module_user(user, self.module_id)
            or policy.is_module_admin(user, self.module_id)
        ):
            raise PermissionDenied(self.denied_message)
        return super().dispatch(request, *args, **kwargs)

    def schedule_url(self, key: str) -> str:
        try:
            if self.schedule_url_name:
                return reverse(self.schedule_url_name, args=[key])
            return reverse("scheduler_app:new", args=[self.module_id, key])
        except NoReverseMatch:
            return ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        provider = registry.get(self.module_id)
        tasks = list(
            policy.viewable_queryset(user)
            .filter(module_id=self.module_id)
            .select_related("owner")
            .order_by("next_run", "pk")[: self.limit]
        )
        allowed = policy.allowed_actions_for(user, tasks)  # one query for the whole page
        rows = []
        for task in tasks:
            actions = allowed.get(task.pk, frozenset()) & policy.possible_actions(task)
            rows.append(
                {
                    "task": task,
                    "url": task_page_url(task, user) if policy.VIEW in actions else "",
                    "can_run": policy.RUN in actions,
                    "can_edit": policy.EDIT in actions,
                }
            )
        task_types = [
            (key, cls, url)
            for key, cls in sorted(provider.task_types.items())
            if policy.can_schedule(user, self.module_id, key) and (url := self.schedule_url(key))
        ]
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "provider": provider,
            "rows": rows,
            "tasks": tasks,
            "task_types": task_types,
            "table_id": self.table_id or f"{self.module_id}-schedules",
            "live_url": live_url + "?" + urlencode({"module": self.module_id})
            if (live_url := reverse_or_empty("scheduler_app:live_running"))
            else "",
        }


@scheduler_page
@login_required
@require_POST
def run_task_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Run now, from a module's page: the task is due at once; back to where the user was."""
    task = get_object_or_404(policy.viewable_queryset(request.user), pk=pk)
    try:
        services.run_now(task, user=request.user)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("“%(name)s” will run on the next scheduler pass.") % {"name": task.name},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        target = task_page_url(task, request.user)
    return HttpResponseRedirect(target)


class SchedulingPagesView(SchedulerPageMixin, LoginRequiredMixin, TemplateView):
    """Every scheduling page the user may open: the modules' pages, notifications, the feed."""

    template_name = "scheduler_app/pages.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "title": _("Scheduling pages"),
            "pages": scheduling_pages(self.request),
        }

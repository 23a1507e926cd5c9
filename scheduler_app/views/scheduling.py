"""Per-module scheduling pages: new and edit, built from the task type's config form.

A module can route to these views as they are, or subclass
:class:`ScheduleTaskView` with its own ``module_id``, ``task_type``,
``template_name`` and ``success_url``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from scheduler_app import policy, services
from scheduler_app.forms import TaskScheduleForm
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import display, overlap_warning
from scheduler_app.registry import registry
from scheduler_app.views.pages import SchedulerPageMixin


def task_page_url(task: ScheduledTask, user: Any) -> str:
    """The admin task page for staff, else the task's edit page."""
    if getattr(user, "is_staff", False):
        try:
            return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
        except NoReverseMatch:
            pass
    return reverse("scheduler_app:edit", args=[task.pk])


def module_page_url(provider: Any, user: Any) -> str:
    """The URL of the module's own page, if it has one the user may open, else ""."""
    if not provider.page_url_name or not (
        policy.is_module_user(user, provider.module_id)
        or policy.is_module_admin(user, provider.module_id)
    ):
        return ""
    try:
        return reverse(provider.page_url_name)
    except NoReverseMatch:
        return ""


class TaskFormViewMixin(SchedulerPageMixin, LoginRequiredMixin):
    """Shared handling of the scheduling form: GET shows it, POST saves via the services."""

    template_name: str | None = "scheduler_app/schedule_form.html"
    success_url: str | None = None
    form_class = TaskScheduleForm

    request: HttpRequest
    kwargs: dict[str, Any]

    def get_form(self, instance: ScheduledTask | None = None) -> TaskScheduleForm:
        data = self.request.POST if self.request.method == "POST" else None
        files = self.request.FILES if self.request.method == "POST" else None
        return self.form_class(
            self.get_module_id(),
            self.get_task_type(),
            user=self.request.user,
            data=data,
            files=files,
            instance=instance,
            initial=self.get_initial(),
        )

    def get_initial(self) -> dict[str, Any]:
        return {}

    def get_module_id(self) -> str:
        raise NotImplementedError

    def get_task_type(self) -> str:
        raise NotImplementedError

    def get_title(self, task_cls: Any) -> str:
        raise NotImplementedError

    def get_success_url(self, task: ScheduledTask) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next")
        if target and url_has_allowed_host_and_scheme(
            target, {self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return self.success_url or task_page_url(task, self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        provider = registry.get(self.get_module_id())
        task_cls = provider.get_task_type(self.get_task_type())
        context.update(
            provider=provider,
            task_type_class=task_cls,
            module_id=self.get_module_id(),
            task_type=self.get_task_type(),
            title=self.get_title(task_cls),
            next=self.request.GET.get("next", ""),
            module_page_url=module_page_url(provider, self.request.user),
        )
        return context

    def form_saved_message(self, task: ScheduledTask) -> str:
        if task.next_run:
            return _("Saved “%(name)s”; next run %(when)s.") % {
                "name": task.name,
                "when": display.format_when(task.next_run, task),
            }
        return _("Saved “%(name)s”.") % {"name": task.name}

    def handle(self, instance: ScheduledTask | None = None) -> HttpResponse:
        form = self.get_form(instance)
        if self.request.method == "POST":
            task = form.save()
            if task is not None:
                messages.success(self.request, self.form_saved_message(task))
                return HttpResponseRedirect(self.get_success_url(task))
        context = self.get_context_data(form=form, task=instance)
        # A warning to confirm is not an error: nothing was wrong with what was sent.
        warned = getattr(form, "overlaps", None) is not None
        status = 400 if self.request.method == "POST" and not warned else 200
        return self.render_to_response(context, status=status)  # type: ignore[attr-defined]


class ScheduleTaskView(TaskFormViewMixin, TemplateView):
    """Schedule a new task of one module's task type.

    ``module_id`` and ``task_type`` come from the URL or from a subclass.
    """

    module_id: str | None = None
    task_type: str | None = None

    def get_module_id(self) -> str:
        return self.module_id or self.kwargs["module"]

    def get_task_type(self) -> str:
        return self.task_type or self.kwargs["task_type"]

    def get_title(self, task_cls: Any) -> str:
        return _("Schedule: %(name)s") % {"name": task_cls.name or self.get_task_type()}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            services.resolve_task_type(self.get_module_id(), self.get_task_type())
        except ValidationError:
            raise Http404(_("No such task type.")) from None
        if not policy.can_schedule(request.user, self.get_module_id(), self.get_task_type()):
            raise PermissionDenied(_("You may not schedule this task type."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.handle()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.handle()


class EditTaskView(TaskFormViewMixin, TemplateView):
    """Edit a task through its module's form; only viewable tasks exist, only editable ones open."""

    task: ScheduledTask

    def get_module_id(self) -> str:
        return self.task.module_id

    def get_task_type(self) -> str:
        return self.task.task_type

    def get_title(self, task_cls: Any) -> str:
        return _("Edit: %(name)s") % {"name": self.task.name}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["same_minute"] = overlap_warning.same_minute_listing(self.task, self.request.user)
        return context

    def get_task(self) -> ScheduledTask:
        visible = policy.viewable_queryset(self.request.user)
        return get_object_or_404(visible.select_related("owner"), pk=self.kwargs["pk"])

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.task = self.get_task()
        try:
            services.resolve_task_type(self.task.module_id, self.task.task_type)
        except ValidationError:
            raise Http404(_("The module of this task is not installed.")) from None
        if not policy.can_edit(request.user, self.task):
            raise PermissionDenied(_("You may not edit this task."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.handle(self.task)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.handle(self.task)

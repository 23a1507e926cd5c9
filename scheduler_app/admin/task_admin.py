"""The global scheduler view: every task the user may see, with permission-checked actions."""

from __future__ import annotations

# The pages' helpers (dashboard, history, metrics, the chooser, the same-minute list) are
# imported where they are used: the admin is imported by every process, a crontab
# scheduler pass included, and only the admin's requests need them.
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scheduler_app import policy, schedules, services
from scheduler_app.admin import actions, columns, edge_fields, ending
from scheduler_app.admin.auditing import AuditedAdmin
from scheduler_app.admin.columns import TaskColumns
from scheduler_app.admin.edge_fields import WorkflowTaskAdminForm
from scheduler_app.admin.filters import ModuleFilter, OwnerFilter, TagFilter, TaskTypeFilter
from scheduler_app.admin.saving import ServiceSavingAdmin
from scheduler_app.models import ScheduledTask, run_options
from scheduler_app.presentation.links import reverse_or_empty

READ_ONLY = (
    "module_display",
    "task_type_display",
    "owner",
    "is_system",
    "status_display",
    "config_display",
    "next_runs_display",
    "next_run_when",
    "last_run_when",
    "last_status_display",
    "error_message",
    "run_count",
    "failure_streak",
    "retry_count",
    "lease_owner",
    "lease_expires_when",
    "created_when",
    "created_by",
    "updated_when",
    "updated_by",
)


class ScheduledTaskAdmin(AuditedAdmin, TaskColumns, ServiceSavingAdmin):
    form = WorkflowTaskAdminForm
    change_form_template = "admin/scheduler_app/scheduledtask/change_form.html"
    change_list_template = "admin/scheduler_app/scheduledtask/change_list.html"
    # Fits 1280 px beside the nav and the filters: the task type and module go under the name.
    list_display = (
        "name_display",
        "schedule_display",
        "next_run_display",
        "last_run_display",
        "owner",
        "enabled",
    )
    list_display_links = None  # name_display links the name itself, not the lines below it
    list_filter = (
        ModuleFilter,
        TaskTypeFilter,
        "status",
        OwnerFilter,
        "schedule_type",
        "enabled",
        TagFilter,
    )
    # Module and type are filters; a search scans names only, plus exact owner, event and id.
    search_fields = ("name", "=owner__username", "=event_name", "=pk")
    search_help_text = gettext_lazy("Search by name, or an exact owner username, event name or id.")
    # Newest first is served by the primary key; other orders are a click on a column.
    ordering = ("-pk",)
    list_select_related = ("owner",)
    list_per_page = 50
    # A second COUNT over every visible row would double the cost of each filtered page.
    show_full_result_count = False
    readonly_fields = READ_ONLY
    actions = (
        actions.run_tasks_now,
        actions.pause_tasks,
        actions.resume_tasks,
        actions.cancel_tasks,
        actions.clear_locks,
        actions.delete_selected,
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "module_display",
                    "task_type_display",
                    "owner",
                    "is_system",
                    "enabled",
                    "status_display",
                )
            },
        ),
        (
            gettext_lazy("Schedule"),
            {
                "fields": (
                    *schedules.COLUMNS,
                    "calendars",
                    "next_runs_display",
                )
            },
        ),
        (
            gettext_lazy("Options"),
            {"fields": run_options.NAMES},
        ),
        edge_fields.FIELDSET,
        (gettext_lazy("Configuration"), {"fields": ("config_display",)}),
        (
            gettext_lazy("State"),
            {
                "fields": (
                    "next_run_when",
                    "last_run_when",
                    "last_status_display",
                    "error_message",
                    "run_count",
                    "failure_streak",
                    "retry_count",
                    "lease_owner",
                    "lease_expires_when",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            gettext_lazy("Changes"),
            {
                "fields": ("created_when", "created_by", "updated_when", "updated_by"),
                "classes": ("collapse",),
            },
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: ScheduledTask | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # The Workflow page shows the edges to those who may only read.
            fieldsets = [f for f in fieldsets if f is not edge_fields.FIELDSET]
            # Read only: the fields of the task's own schedule type, no script needed.
            return columns.without_unused_schedule_fields(fieldsets, obj.schedule_type)
        if obj is not None and obj.status in services.RESUMABLE:
            # An ended task: the form asks before a change plans it again.
            fieldsets = [*fieldsets]
            fieldsets.insert(2, (gettext_lazy("Run again"), {"fields": ("resume",)}))
        return fieldsets

    # -- access: the one policy decides ------------------------------------

    def get_queryset(self, request: HttpRequest) -> Any:
        return policy.viewable_queryset(request.user, super().get_queryset(request))

    def _staff(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: ScheduledTask | None = None) -> bool:
        if not self._staff(request):
            return False
        return obj is None or policy.can_view(request.user, obj)

    def acting_powers(self, request: HttpRequest) -> frozenset[str]:
        """What the user may do to at least one task (cached on the request): the list offers
        only these, so a view-only user reads "Select scheduled task to view" and gets no
        Delete, Run or Pause."""
        powers = getattr(request, "_scheduler_powers", None)
        if powers is None:
            powers = policy.actions_on_some_task(request.user)
            request._scheduler_powers = powers  # type: ignore[attr-defined]
        return powers

    def has_change_permission(self, request: HttpRequest, obj: ScheduledTask | None = None) -> bool:
        if not self._staff(request):
            return False
        if obj is None:
            return policy.EDIT in self.acting_powers(request)
        return policy.can_edit(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ScheduledTask | None = None) -> bool:
        if not self._staff(request):
            return False
        if obj is None:
            return policy.DELETE in self.acting_powers(request)
        return policy.can_delete(request.user, obj)

    def has_clear_lock_permission(self, request: HttpRequest) -> bool:
        """Offer "clear locks" to who administers a module; each task is still checked."""
        return self._staff(request) and bool(policy.administered_modules(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # "Add" is the chooser of task types; each links to its module's form (which knows the
        # config fields), so it needs those pages routed and a type the user may schedule.
        if not self._staff(request) or not reverse_or_empty("scheduler_app:preview"):
            return False
        return bool(policy.schedulable_modules(request.user))

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """ "Schedule a task": choose a task type, grouped by module, then fill its form."""
        from scheduler_app.admin import chooser

        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Schedule a task"),
            "modules": chooser.schedulable_types(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/scheduler_app/scheduledtask/chooser.html", context)

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes where the actions are shown; older versions do not.
        found = (
            super().get_actions(request)
            if action_location is None
            else super().get_actions(request, action_location=action_location)  # type: ignore[call-arg]
        )
        powers = self.acting_powers(request)
        for name, needs in actions.ACTION_NEEDS.items():
            if needs not in powers:
                found.pop(name, None)
        if not policy.administered_modules(request.user):
            found.pop("clear_locks", None)  # only module admins clear locks
        return found

    # -- the task page: metrics and history below the form ------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        from scheduler_app.admin.audit_trail import audit_trail
        from scheduler_app.admin.history import history_page
        from scheduler_app.monitoring import metrics
        from scheduler_app.presentation import overlap_warning

        extra = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            extra["task_actions"] = self._task_actions(request, obj)
            # Ending is confirmed on its own page, so it is a link, not a button.
            extra["can_end"] = policy.CANCEL in policy.available_actions(request.user, obj)
            extra["fields_by_type"] = columns.FIELDS_BY_TYPE
            extra["same_minute"] = overlap_warning.same_minute_listing(obj, request.user)
            extra["audit"] = audit_trail(request, obj)
            if policy.can_view_logs(request.user, obj):
                extra.update(
                    task_metrics=metrics.task_metrics(obj),
                    history=history_page(request, obj),
                    live_url=reverse_or_empty("scheduler_app:live_task", obj.pk),
                )
        # "Save and add another" would lead to the chooser, away from this task.
        extra["show_save_and_add_another"] = False
        return super().change_view(request, object_id, form_url, extra)

    def _task_actions(self, request: HttpRequest, obj: ScheduledTask) -> list[tuple[str, str]]:
        """The one-task buttons to show (the services still check each click)."""
        available = policy.available_actions(request.user, obj)
        buttons = [
            ("run_now", policy.RUN, _("Run now")),
            ("pause", policy.PAUSE, _("Pause")),
            ("resume", policy.RESUME, _("Resume")),
        ]
        shown = [(name, label) for name, action, label in buttons if action in available]
        if policy.can_clear_lock(request.user, obj):
            shown.append(("clear_lock", _("Clear lock")))
        return shown

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard), name="{}_{}_dashboard".format(*info)),
            path(
                "<int:task_id>/logs/<int:log_id>/",
                wrap(self.log_detail),
                name="{}_{}_log".format(*info),
            ),
            path("<int:task_id>/end/", wrap(self.end_view), name="{}_{}_end".format(*info)),
            path(
                "<int:task_id>/do/<slug:action>/",
                wrap(require_POST(self.task_action)),
                name="{}_{}_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def _viewable_task(self, request: HttpRequest, task_id: int) -> ScheduledTask:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=task_id)

    def log_detail(self, request: HttpRequest, task_id: int, log_id: int) -> HttpResponse:
        from scheduler_app.admin.history import log_detail_context
        from scheduler_app.services import live

        task = self._viewable_task(request, task_id)
        context = {
            **self.admin_site.each_context(request),
            **log_detail_context(request, task, log_id),
            "opts": self.opts,
        }
        if context["log"].status in live.OPEN:
            context["live_url"] = reverse_or_empty("scheduler_app:live_run", log_id)
        return TemplateResponse(
            request, "admin/scheduler_app/scheduledtask/log_detail.html", context
        )

    def task_action(self, request: HttpRequest, task_id: int, action: str) -> HttpResponse:
        task = self._viewable_task(request, task_id)
        if action not in actions.TASK_ACTIONS:
            raise Http404
        if action == "cancel" and not ending.confirmed(request):
            return HttpResponseRedirect(
                reverse("admin:scheduler_app_scheduledtask_end", args=[task.pk])
            )
        actions.TASK_ACTIONS[action](self, request, ScheduledTask.objects.filter(pk=task.pk))
        return HttpResponseRedirect(
            reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
        )

    def end_view(self, request: HttpRequest, task_id: int) -> HttpResponse:
        """Ask before ending one task's schedule; the answer posts to its ``cancel`` action."""
        task = self._viewable_task(request, task_id)
        queryset = ScheduledTask.objects.filter(pk=task.pk)
        return ending.end_confirmation(self, request, queryset, task=task)

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        from scheduler_app.admin.dashboard import dashboard_view

        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Scheduler dashboard"),
            **dashboard_view(request, self.get_queryset(request), timezone.now()),
        }
        return TemplateResponse(
            request, "admin/scheduler_app/scheduledtask/dashboard.html", context
        )

    def changelist_view(
        self,
        request: HttpRequest,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().changelist_view(request, extra_context)

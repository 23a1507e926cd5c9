"""The global scheduler view: every task the user may see, with permission-checked actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scheduler_app import display, policy, services
from scheduler_app.admin import actions
from scheduler_app.admin.dashboard import dashboard_view
from scheduler_app.admin.filters import ModuleFilter, OwnerFilter, TagFilter, TaskTypeFilter
from scheduler_app.admin.forms import ScheduledTaskAdminForm
from scheduler_app.admin.history import history_page, log_detail_context
from scheduler_app.admin.saving import ServiceSavingAdmin
from scheduler_app.models import ScheduledTask
from scheduler_app.monitoring import metrics
from scheduler_app.registry import registry
from scheduler_app.services.calendars import blackout_notes

READ_ONLY = (
    "module_display",
    "task_type_display",
    "owner",
    "is_system",
    "status_display",
    "config_display",
    "next_runs_display",
    "next_run",
    "last_run",
    "last_status_display",
    "error_message",
    "run_count",
    "failure_streak",
    "retry_count",
    "lease_owner",
    "lease_expires_at",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)


class ScheduledTaskAdmin(ServiceSavingAdmin):
    form = ScheduledTaskAdminForm
    change_form_template = "admin/scheduler_app/scheduledtask/change_form.html"
    change_list_template = "admin/scheduler_app/scheduledtask/change_list.html"
    list_display = (
        "name",
        "module_display",
        "task_type_display",
        "schedule_display",
        "next_run_display",
        "last_run_display",
        "owner",
        "enabled",
    )
    list_display_links = ("name",)
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
                    "schedule_type",
                    "cron_expression",
                    "run_at",
                    "interval_every",
                    "interval_unit",
                    "event_name",
                    "timezone",
                    "calendars",
                    "next_runs_display",
                )
            },
        ),
        (
            gettext_lazy("Options"),
            {
                "fields": (
                    "priority",
                    "max_retries",
                    "timeout",
                    "allow_overlap",
                    "misfire_policy",
                    "misfire_grace",
                    "tags",
                )
            },
        ),
        (gettext_lazy("Configuration"), {"fields": ("config_display",)}),
        (
            gettext_lazy("State"),
            {
                "fields": (
                    "next_run",
                    "last_run",
                    "last_status_display",
                    "error_message",
                    "run_count",
                    "failure_streak",
                    "retry_count",
                    "lease_owner",
                    "lease_expires_at",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            gettext_lazy("Changes"),
            {
                "fields": ("created_at", "created_by", "updated_at", "updated_by"),
                "classes": ("collapse",),
            },
        ),
    )

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

    def has_change_permission(self, request: HttpRequest, obj: ScheduledTask | None = None) -> bool:
        if not self._staff(request):
            return False
        return obj is None or policy.can_edit(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ScheduledTask | None = None) -> bool:
        if not self._staff(request):
            return False
        return obj is None or policy.can_delete(request.user, obj)

    def has_clear_lock_permission(self, request: HttpRequest) -> bool:
        """Offer "clear locks" to who administers a module; each task is still checked."""
        return self._staff(request) and bool(policy.administered_modules(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New tasks are created through their module's form (it knows the config fields).
        return False

    # -- columns -------------------------------------------------------------

    @admin.display(description=gettext_lazy("module"), ordering="module_id")
    def module_display(self, obj: ScheduledTask) -> str:
        if registry.is_registered(obj.module_id):
            return str(registry.get(obj.module_id).verbose_name())
        return obj.module_id

    @admin.display(description=gettext_lazy("task type"), ordering="task_type")
    def task_type_display(self, obj: ScheduledTask) -> str:
        try:
            return str(registry.get_task_type(obj.module_id, obj.task_type).name or obj.task_type)
        except Exception:  # noqa: BLE001 - a task of an uninstalled module still lists
            return obj.task_type

    @admin.display(description=gettext_lazy("schedule"))
    def schedule_display(self, obj: ScheduledTask) -> str:
        return display.describe_schedule(obj)

    @admin.display(description=gettext_lazy("next run"), ordering="next_run")
    def next_run_display(self, obj: ScheduledTask) -> str:
        return display.when_with_relative(obj.next_run)

    @admin.display(description=gettext_lazy("last run"), ordering="last_run")
    def last_run_display(self, obj: ScheduledTask) -> str:
        if obj.last_run is None:
            return display.badge("")
        return format_html(
            "{} {}", display.badge(obj.last_status), display.when_with_relative(obj.last_run)
        )

    @admin.display(description=gettext_lazy("status"))
    def status_display(self, obj: ScheduledTask) -> str:
        return display.badge(obj.status)

    @admin.display(description=gettext_lazy("last run status"))
    def last_status_display(self, obj: ScheduledTask) -> str:
        return display.badge(obj.last_status)

    @admin.display(description=gettext_lazy("configuration"))
    def config_display(self, obj: ScheduledTask) -> str:
        shown = services.visible_config(obj)
        if not shown:
            return format_html('<span class="sched-muted">{}</span>', _("No configuration."))
        return format_html(
            '<table class="sched-config">{}</table>',
            format_html_join(
                "", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in shown.items())
            ),
        )

    @admin.display(description=gettext_lazy("next 5 runs"))
    def next_runs_display(self, obj: ScheduledTask) -> str:
        try:
            runs = services.next_runs_with_notes(task=obj, count=5)
        except (ValidationError, ValueError):
            return _("The schedule of this task is not valid.")
        if not runs:
            return _("No upcoming runs.")
        zone = obj.schedule.zone
        blackouts = blackout_notes(obj, [r.at for r in runs])
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                '<li data-dst="{}">{}{}{}</li>',
                (
                    (
                        r.dst,
                        r.at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z"),
                        format_html(' <span class="help sched-dst">{}</span>', r.note)
                        if r.note
                        else "",
                        format_html(
                            ' <span class="help sched-blackout">{}</span>',
                            _("skipped: %(why)s") % {"why": b},
                        )
                        if b
                        else "",
                    )
                    for r, b in zip(runs, blackouts, strict=True)
                ),
            ),
        )

    # -- the task page: metrics and history below the form ------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            extra["task_actions"] = self._task_actions(request, obj)
            if policy.can_view_logs(request.user, obj):
                extra.update(
                    task_metrics=metrics.task_metrics(obj), history=history_page(request, obj)
                )
        return super().change_view(request, object_id, form_url, extra)

    def _task_actions(self, request: HttpRequest, obj: ScheduledTask) -> list[tuple[str, str]]:
        """The one-task buttons to show (the services still check each click)."""
        available = policy.available_actions(request.user, obj)
        buttons = [
            ("run_now", policy.RUN, _("Run now")),
            ("pause", policy.PAUSE, _("Pause")),
            ("resume", policy.RESUME, _("Resume")),
            ("cancel", policy.CANCEL, _("Cancel")),
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
        task = self._viewable_task(request, task_id)
        context = {
            **self.admin_site.each_context(request),
            **log_detail_context(request, task, log_id),
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/scheduler_app/scheduledtask/log_detail.html", context
        )

    def task_action(self, request: HttpRequest, task_id: int, action: str) -> HttpResponse:
        task = self._viewable_task(request, task_id)
        if action not in actions.TASK_ACTIONS:
            raise Http404
        actions.TASK_ACTIONS[action](self, request, ScheduledTask.objects.filter(pk=task.pk))
        return HttpResponseRedirect(
            reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
        )

    def dashboard(self, request: HttpRequest) -> HttpResponse:
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
        extra = dict(extra_context or {})
        modules = set(policy.schedulable_modules(request.user))
        extra["schedulable"] = [
            (p, key, cls)
            for p in registry.providers()
            if p.module_id in modules
            for key, cls in sorted(p.task_types.items())
        ]
        return super().changelist_view(request, extra)

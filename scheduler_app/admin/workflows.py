"""Admin of workflows and approvals: the graph of a task's workflow with its editor, the runs
of workflows, and the approval requests with their decision form.

Rendering and input only: the graph is drawn by ``monitoring.workflow_graph``;
edges change through ``services.add_edge/change_edge/remove_edge`` and
decisions through ``services.approve/reject``, which apply the policy. Those
modules, and the editor's forms, are imported by the views that use them: every
process registers this admin, few of them serve it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler_app import policy, services
from scheduler_app.admin.auditing import FromAdmin
from scheduler_app.admin.read_only import ReadOnlyAdmin, is_staff
from scheduler_app.models import (
    Approval,
    RunStatus,
    ScheduledTask,
    StepStatus,
    WorkflowRun,
    WorkflowStep,
)
from scheduler_app.presentation import display

if TYPE_CHECKING:
    from scheduler_app.services import workflows


def graph_svg(
    user: Any, graph: workflows.Workflow, run: WorkflowRun | None, steps: dict[int, str]
) -> Any:
    """The SVG of ``graph``: each step coloured by its state in ``run``, else its last run."""
    from scheduler_app.monitoring import workflow_graph

    labels = dict(StepStatus.choices) | dict(RunStatus.choices)
    nodes = []
    for task in graph.tasks:
        state = steps.get(task.pk) or task.last_status or ""
        nodes.append(
            workflow_graph.Node(
                id=task.pk,
                label=task.name,
                state=state,
                state_label=str(labels.get(state, _("not run yet"))),
                in_run=task.pk in steps,
                url=reverse("admin:scheduler_app_workflowrun_task", args=[task.pk]),
            )
        )
    edges = [workflow_graph.Edge(e.source_id, e.target_id, e.condition) for e in graph.edges]
    return workflow_graph.render(nodes, edges, title=_("Workflow"))


@admin.register(WorkflowRun)
class WorkflowRunAdmin(FromAdmin, ReadOnlyAdmin):
    list_display = ("__str__", "status", "started_when", "finished_when", "graph_link")
    list_filter = ("status",)
    date_hierarchy = "started_at"

    def get_queryset(self, request: HttpRequest) -> Any:
        tasks = policy.viewable_queryset(request.user).values("pk")
        return super().get_queryset(request).filter(root__in=tasks).select_related("root")

    @admin.display(description=gettext_lazy("started"), ordering="started_at")
    def started_when(self, run: WorkflowRun) -> Any:
        return display.when(run.started_at)

    @admin.display(description=gettext_lazy("finished"), ordering="finished_at")
    def finished_when(self, run: WorkflowRun) -> Any:
        return display.when(run.finished_at) if run.finished_at else "—"

    @admin.display(description=gettext_lazy("graph"))
    def graph_link(self, run: WorkflowRun) -> str:
        if run.root_id is None:
            return "—"
        url = reverse("admin:scheduler_app_workflowrun_task", args=[run.root_id])
        return format_html('<a href="{}?run={}">{}</a>', url, run.pk, _("Show this run"))

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> Any:
        # get_object: an id that is not a number is "not found", as everywhere in the admin.
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404(_("No such workflow run."))
        if run.root_id is None:
            raise Http404(_("The task that started this run is gone."))
        url = reverse("admin:scheduler_app_workflowrun_task", args=[run.root_id])
        return HttpResponseRedirect(f"{url}?run={run.pk}")

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "task/<int:task_id>/",
                wrap(self.workflow_view),
                name="scheduler_app_workflowrun_task",
            ),
            *super().get_urls(),
        ]

    # -- the workflow of one task: graph and editor ------------------------

    def workflow_view(self, request: HttpRequest, task_id: int) -> HttpResponse:
        if not is_staff(request):
            raise PermissionDenied
        task = get_object_or_404(policy.viewable_queryset(request.user), pk=task_id)
        if request.method == "POST":
            self._edit(request, task)
            return HttpResponseRedirect(request.get_full_path())
        from scheduler_app.admin.workflow_forms import AddEdgeForm, ChangeEdgeForm
        from scheduler_app.services import workflows

        graph = workflows.workflow_of(task, user=request.user)
        run, steps = graph.latest_run, graph.steps
        asked = request.GET.get("run", "")
        if asked.isascii() and asked.isdigit():  # "²" is a digit to isdigit(), not to int()
            run = WorkflowRun.objects.filter(pk=int(asked), steps__task__in=graph.tasks).first()
            steps = dict(WorkflowStep.objects.filter(run=run).values_list("task_id", "status"))
        user = request.user
        actions = policy.allowed_actions_for(user, graph.tasks)  # one query for all steps
        editable = {pk for pk, allowed in actions.items() if "edit" in allowed}
        edge_rows = [
            {
                "edge": edge,
                "source": next(t for t in graph.tasks if t.pk == edge.source_id),
                "target": next(t for t in graph.tasks if t.pk == edge.target_id),
                "form": ChangeEdgeForm(
                    initial={"condition": edge.condition, "target": str(edge.target_id)},
                    user=user,
                    workflow_tasks=graph.tasks,
                    edge_id=edge.pk,
                )
                if edge.source_id in editable
                else None,
            }
            for edge in graph.edges
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Workflow of “%(name)s”") % {"name": task.name},
            "task": task,
            "svg": graph_svg(user, graph, run, steps),
            "run": run,
            "runs": WorkflowRun.objects.filter(steps__task=task).distinct()[:10],
            "edge_rows": edge_rows,
            "add_form": AddEdgeForm(
                initial={"source": str(task.pk)}, user=user, workflow_tasks=graph.tasks
            ),
            "truncated": graph.truncated,
            "task_url": reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]),
            "new_task_url": reverse("admin:scheduler_app_scheduledtask_add"),
            "approvals": Approval.objects.filter(task__in=graph.tasks, workflow_run=run)
            if run
            else [],
        }
        return TemplateResponse(request, "admin/scheduler_app/workflow.html", context)

    def _edit(self, request: HttpRequest, task: ScheduledTask) -> None:
        """Apply one editor form (add, change or remove an edge); report in messages."""
        from scheduler_app.admin.workflow_forms import AddEdgeForm, ChangeEdgeForm
        from scheduler_app.services import workflows

        user = request.user
        action = request.POST.get("action", "")
        graph_tasks = workflows.workflow_of(task, user=user).tasks
        try:
            if action == "add":
                form = AddEdgeForm(request.POST, user=user, workflow_tasks=graph_tasks)
                if not form.is_valid():
                    raise ValidationError(_("Choose both steps and a condition."))
                data = form.cleaned_data
                services.add_edge(
                    data["source"], data["target"], user=user, condition=data["condition"]
                )
                messages.success(request, _("The edge was added."))
            elif action in ("change", "remove"):
                edge_id = request.POST.get("edge", "")
                if not (edge_id.isascii() and edge_id.isdigit()):
                    raise ValidationError(_("No such edge."))
                if action == "remove":
                    services.remove_edge(int(edge_id), user=user)
                    messages.success(request, _("The edge was removed."))
                else:
                    change = ChangeEdgeForm(
                        request.POST, user=user, workflow_tasks=graph_tasks, edge_id=int(edge_id)
                    )
                    if not change.is_valid():
                        raise ValidationError(_("Choose a step and a condition."))
                    services.change_edge(
                        int(edge_id),
                        user=user,
                        target=change.cleaned_data["target"],
                        condition=change.cleaned_data["condition"],
                    )
                    messages.success(request, _("The edge was changed."))
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not change this workflow."))


@admin.register(Approval)
class ApprovalAdmin(FromAdmin, ReadOnlyAdmin):
    list_display = ("title", "task", "status", "requested_when", "expires_when", "decided_by_name")
    list_filter = ("status",)
    search_fields = ("title", "task__name")
    change_form_template = "admin/scheduler_app/approval/change_form.html"
    readonly_fields = (
        "title",
        "message",
        "task",
        "workflow_run",
        "status",
        "approvers_display",
        "escalation_display",
        "requested_when",
        "expires_when",
        "decided_when",
        "decided_by_name",
        "comment",
    )
    fields = readonly_fields

    @admin.display(description=gettext_lazy("who decides"))
    def approvers_display(self, obj: Approval) -> str:
        from scheduler_app.services import approvals

        return approvals.describe_approvers(obj)

    @admin.display(description=gettext_lazy("escalation"))
    def escalation_display(self, obj: Approval) -> Any:
        if obj.escalate_at is None:
            return "—"
        from scheduler_app.services import approvals

        who = approvals.describe_approvers(obj, escalation=True)
        if obj.escalated_at is not None:
            return format_html("{} ({} {})", who, _("escalated"), display.when(obj.escalated_at))
        return format_html("{} ({} {})", who, _("from"), display.when(obj.escalate_at))

    @admin.display(description=gettext_lazy("requested"), ordering="requested_at")
    def requested_when(self, obj: Approval) -> Any:
        return display.when(obj.requested_at)

    @admin.display(description=gettext_lazy("rejected automatically at"))
    def expires_when(self, obj: Approval) -> Any:
        return display.when(obj.expires_at) if obj.expires_at else "—"

    @admin.display(description=gettext_lazy("decided"))
    def decided_when(self, obj: Approval) -> Any:
        return display.when(obj.decided_at) if obj.decided_at else "—"

    def get_queryset(self, request: HttpRequest) -> Any:
        from scheduler_app.services import approvals

        visible = approvals.visible(request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=visible).select_related("task")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        approval = self.get_object(request, object_id)
        if approval is None:
            raise Http404(_("No such approval."))
        from scheduler_app.services import approvals

        if request.method == "POST":
            decision = request.POST.get("decision")
            decide = {"approve": services.approve, "reject": services.reject}.get(decision or "")
            try:
                if decide is None:
                    raise ValidationError(_("Choose approve or reject."))
                done = decide(approval, user=request.user, comment=request.POST.get("comment", ""))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            except PermissionDenied as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("“%(title)s”: %(status)s.")
                    % {"title": done.title, "status": done.get_status_display()},
                )
            return HttpResponseRedirect(request.path)
        extra = {
            **(extra_context or {}),
            "may_decide": approval.is_open
            and approvals.is_approver(request.user, approval, timezone.now()),
            "approvers": approvals.describe_approvers(approval),
            "workflow_url": reverse("admin:scheduler_app_workflowrun_task", args=[approval.task_id])
            + (f"?run={approval.workflow_run_id}" if approval.workflow_run_id else ""),
        }
        return super().change_view(request, object_id, form_url, extra)


__all__ = ["ApprovalAdmin", "WorkflowRunAdmin"]

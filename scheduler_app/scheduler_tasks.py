"""scheduler_app's own tasks: maintenance, declared as system tasks of every installation.

Autodiscovered like any module's ``scheduler_tasks``. Importing
:mod:`scheduler_app.services.system_tasks` here connects the sync to ``post_migrate``.
"""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduler_app.context import TaskContext
from scheduler_app.notifications import EMAIL, IN_APP, ChannelsField, NotificationConfigForm
from scheduler_app.providers import SchedulableTask, SystemTask, TaskProvider, TaskResult
from scheduler_app.registry import register
from scheduler_app.services import system_tasks  # noqa: F401 - syncs system tasks after migrate


class PruneLogsForm(forms.Form):
    days = forms.IntegerField(
        label=_("Keep days"),
        required=False,
        min_value=0,
        help_text=_(
            "Delete execution logs older than this. Empty: SCHEDULER['LOG_RETENTION_DAYS']."
        ),
    )


class PruneLogs(SchedulableTask):
    name = "Prune old execution logs"
    description = (
        "Delete execution logs older than the retention period (manage.py scheduler_prune)."
    )
    config_form = PruneLogsForm
    default_max_retries = 1

    def execute(self, context: TaskContext) -> TaskResult:
        from scheduler_app.services import retention

        days = context.config.get("days")
        report = " ".join(retention.prune(days).lines())
        return TaskResult.success(report or "Nothing to prune.", data={"days": days})


@register
class SchedulerMaintenanceProvider(TaskProvider):
    module_id = "scheduler"
    name = "Scheduler maintenance"
    base_permission = "SA_SCHEDULER_MAINTENANCE"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {"prune_logs": PruneLogs}
    system_tasks: ClassVar[dict[str, SystemTask]] = {
        # scheduler_prune, nightly, at a quiet hour.
        "prune": SystemTask(
            task_type="prune_logs",
            name="Delete old execution logs",
            cron="30 3 * * *",
            priority=9,
        ),
    }


#: Minutes an approval may wait at most before escalation or expiry (one year).
MAX_WAIT_MINUTES = 365 * 24 * 60


def _existing_permission(value: str) -> str:
    from django.contrib.auth.models import Permission

    from scheduler_app.services.approvals import full_permission

    name = full_permission(value)
    if not name:
        return ""
    app_label, _dot, codename = name.partition(".")
    if not Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists():
        raise forms.ValidationError(
            _("No permission “%(name)s” exists.") % {"name": name[:150]}, code="unknown"
        )
    return name


def _existing_group(value: str) -> str:
    from django.contrib.auth.models import Group

    value = value.strip()
    if value and not Group.objects.filter(name=value).exists():
        raise forms.ValidationError(
            _("No group “%(name)s” exists.") % {"name": value[:150]}, code="unknown"
        )
    return value


class ApproverChannelsField(ChannelsField):
    """The channels approvers hear by; none chosen means every one (a request must reach them)."""

    def clean(self, value: object) -> list[str]:
        return forms.MultipleChoiceField.clean(self, value) or [EMAIL, IN_APP]


class ApprovalStepForm(NotificationConfigForm):
    channels = ApproverChannelsField(
        initial=[EMAIL, IN_APP],
        help_text=_(
            "How approvers hear of a request (e-mails carry one-click links). None chosen: "
            "both. A failed delivery is logged; the request stays open on the pages."
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    message = forms.CharField(
        label=_("Message to the approvers"), required=False, max_length=4000, widget=forms.Textarea
    )
    permission = forms.CharField(
        label=_("Approvers: permission"),
        required=False,
        max_length=150,
        help_text=_("Holders of this permission decide, e.g. SA_MARKETING_ADMIN or app.codename."),
    )
    group = forms.CharField(
        label=_("Approvers: group"), required=False, max_length=150, help_text=_("Or its members.")
    )
    escalate_after_minutes = forms.IntegerField(
        label=_("Escalate after (minutes)"), required=False, min_value=1, max_value=MAX_WAIT_MINUTES
    )
    escalation_permission = forms.CharField(
        label=_("Escalate to: permission"), required=False, max_length=150
    )
    escalation_group = forms.CharField(
        label=_("Escalate to: group"), required=False, max_length=150
    )
    expire_after_minutes = forms.IntegerField(
        label=_("Reject automatically after (minutes)"),
        required=False,
        min_value=1,
        max_value=MAX_WAIT_MINUTES,
    )

    def clean_title(self) -> str:
        title = self.cleaned_data.get("title") or ""
        if title and title.splitlines() != [title]:
            raise forms.ValidationError(
                _("Keep the title on one line: it is the subject of the approvers' e-mail.")
            )
        return title

    def clean_permission(self) -> str:
        return _existing_permission(self.cleaned_data.get("permission") or "")

    def clean_escalation_permission(self) -> str:
        return _existing_permission(self.cleaned_data.get("escalation_permission") or "")

    def clean_group(self) -> str:
        return _existing_group(self.cleaned_data.get("group") or "")

    def clean_escalation_group(self) -> str:
        return _existing_group(self.cleaned_data.get("escalation_group") or "")

    def clean(self) -> dict:
        data = super().clean() or {}
        if not self.errors:
            if not (data.get("permission") or data.get("group")):
                self.add_error("permission", _("Name the approvers: a permission or a group."))
            escalates = data.get("escalate_after_minutes")
            named = data.get("escalation_permission") or data.get("escalation_group")
            if escalates and not named:
                self.add_error("escalation_permission", _("Name who the approval escalates to."))
            if named and not escalates:
                self.add_error("escalate_after_minutes", _("Say after how long it escalates."))
            expires = data.get("expire_after_minutes")
            if escalates and expires and expires <= escalates:
                self.add_error("expire_after_minutes", _("Expiry must come after the escalation."))
        return data


class ApprovalStep(SchedulableTask):
    name = "Approval"
    description = (
        "Wait for a person to approve or reject, then go on along the workflow's edges "
        "(approved: success edges; rejected or expired: failure edges)."
    )
    config_form = ApprovalStepForm
    default_max_retries = 0

    def execute(self, context: TaskContext) -> TaskResult:
        from scheduler_app.services import approval_requests

        return approval_requests.run_step(context)


@register
class WorkflowProvider(TaskProvider):
    module_id = "workflow"
    name = "Workflow steps"
    base_permission = "SA_WORKFLOW"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {"approval": ApprovalStep}

"""Approval requests: a workflow step waiting for a person to approve or reject it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.tasks import ScheduledTask
from scheduler_app.models.workflows import WorkflowRun


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired (rejected automatically)")


class ApprovalQuerySet(models.QuerySet):
    def pending(self) -> ApprovalQuerySet:
        return self.filter(status=ApprovalStatus.PENDING)

    def newest_first(self) -> ApprovalQuerySet:
        return self.order_by("-requested_at", "-pk")


class Approval(models.Model):
    """One request for a decision, opened when an approval step runs.

    The approvers are the holders of ``permission`` or the members of
    ``group``; after ``escalate_at`` the holders of ``escalation_permission``
    or members of ``escalation_group`` may decide too; at ``expires_at`` the
    request is rejected automatically. The decision (who, when, comment) is
    kept here and in the task's audit trail.
    """

    task = models.ForeignKey(
        ScheduledTask, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("step")
    )
    workflow_run = models.ForeignKey(
        WorkflowRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approvals",
        verbose_name=_("workflow run"),
    )
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    permission = models.CharField(_("approver permission"), max_length=150, blank=True)
    group = models.CharField(_("approver group"), max_length=150, blank=True)
    escalation_permission = models.CharField(_("escalation permission"), max_length=150, blank=True)
    escalation_group = models.CharField(_("escalation group"), max_length=150, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    # The decider's username at the time; empty with a decision means the system (expiry).
    decided_by_name = models.CharField(_("decided by (name)"), max_length=150, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Set when the step has read the decision and ended: a later run of the
    # step (outside a workflow run) opens a new request instead of reusing this one.
    step_ended = models.BooleanField(_("step ended"), default=False)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(
                fields=["task", "-requested_at"],
                name="sched_approval_task_idx",
            ),
            models.Index(
                fields=["requested_at"],
                name="sched_approval_open_idx",
                condition=Q(status="pending"),
            ),
        ]
        constraints = [
            # One open request per step and workflow run: a re-run of the body finds it.
            models.UniqueConstraint(
                fields=["task", "workflow_run"],
                condition=Q(status="pending"),
                name="sched_approval_one_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == ApprovalStatus.PENDING

    def is_escalated(self, now: dt.datetime) -> bool:
        return self.escalate_at is not None and now >= self.escalate_at

    def is_expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

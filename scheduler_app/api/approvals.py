"""What the approvals endpoints read and write (kept apart from the task serializers)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from scheduler_app.api.serializers import StrictSerializer, TextField
from scheduler_app.models import Approval, ApprovalStatus
from scheduler_app.services.approvals import MAX_COMMENT


class ApprovalSerializer(serializers.ModelSerializer):
    """One approval request; ``may_decide`` says whether you may decide it now."""

    task = serializers.IntegerField(source="task_id")
    task_name = serializers.CharField(source="task.name")
    workflow_run = serializers.IntegerField(source="workflow_run_id", allow_null=True)
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    decided_by = serializers.CharField(source="decided_by_name")
    may_decide = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields: tuple[str, ...] = (
            "id",
            "title",
            "message",
            "task",
            "task_name",
            "workflow_run",
            "status",
            "permission",
            "group",
            "escalation_permission",
            "escalation_group",
            "requested_at",
            "escalate_at",
            "escalated_at",
            "expires_at",
            "decided_at",
            "decided_by",
            "comment",
            "may_decide",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_may_decide(self, approval: Approval) -> bool:
        decidable: set[Any] = self.context.get("decidable", set())
        return approval.pk in decidable


class ApprovalPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ApprovalSerializer(many=True)


class DecisionSerializer(StrictSerializer):
    comment = TextField(required=False, allow_blank=True, max_length=MAX_COMMENT, default="")


class DecisionRefusedSerializer(serializers.Serializer):
    """409: the request was already decided or has expired (``reason``: decided | expired)."""

    detail = serializers.CharField()
    reason = serializers.ChoiceField(choices=["decided", "expired"])
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)

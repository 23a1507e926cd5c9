"""The API's runs: one run as listed, a page of them, one run with its progress.

Apart from :mod:`scheduler_app.api.serializers` (the tasks' shapes) so that neither
module grows past what a reader takes in at once.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduler_app import conf
from scheduler_app.api import masking
from scheduler_app.api.serializers import MAX_TRACEBACK
from scheduler_app.models import TaskExecutionLog


class RunSerializer(serializers.ModelSerializer):
    """One run as listed; ``context["secrets"]`` (:func:`masking.secret_values`) are masked."""

    task = serializers.IntegerField(source="task_id")
    error_message = serializers.SerializerMethodField()

    class Meta:
        model = TaskExecutionLog
        fields: tuple[str, ...] = (
            "id",
            "task",
            "run_id",
            "status",
            "scheduled_for",
            "attempt",
            "started_at",
            "finished_at",
            "duration",
            "error_message",
            "host",
            "triggered_by",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_error_message(self, log: TaskExecutionLog) -> str:
        return masking.scrub(log.error_message or "", self.context.get("secrets", []))


class RunPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunSerializer(many=True)


class RunProgressSerializer(serializers.Serializer):
    """How far a run is, as its body last reported (``context.progress()``)."""

    done = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0, allow_null=True)
    percent = serializers.FloatField(allow_null=True, help_text="done / total in %, at most 100")
    message = serializers.CharField(allow_blank=True)
    reported_at = serializers.DateTimeField(allow_null=True)


class RunDetailSerializer(RunSerializer):
    """One run with its result, traceback and output: cut to bounds, the task's secrets masked.

    ``context["secrets"]``: the values to mask (:func:`masking.secret_values`).
    """

    error_message = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    traceback = serializers.SerializerMethodField()
    output = serializers.SerializerMethodField()
    output_truncated = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = (
            *RunSerializer.Meta.fields,
            "pid",
            "result",
            "traceback",
            "output",
            "output_truncated",
            "interrupt_requested_at",
            "interrupt_requested_by",
            "progress",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(RunProgressSerializer(allow_null=True))
    def get_progress(self, log: TaskExecutionLog) -> dict[str, Any] | None:
        """The run's last progress report; null if its body reported none."""
        if log.progress_done is None:
            return None
        done, total = log.progress_done, log.progress_total
        return {
            "done": done,
            "total": total,
            "percent": round(min(100.0, 100 * done / total), 1) if total else None,
            "message": self._masked(log.progress_message or ""),
            "reported_at": serializers.DateTimeField().to_representation(log.progress_at)
            if log.progress_at
            else None,
        }

    def _masked(self, value: Any) -> Any:
        return masking.scrub(value, self.context.get("secrets", []))

    def get_error_message(self, log: TaskExecutionLog) -> str:
        return self._masked(log.error_message or "")

    @extend_schema_field({"nullable": True})
    def get_result(self, log: TaskExecutionLog) -> Any:
        """What the task body returned (JSON)."""
        return self._masked(log.result)

    # Masked before the cut: a cut inside a secret would leave a piece of it unmasked.
    def get_traceback(self, log: TaskExecutionLog) -> str:
        return self._masked(log.traceback or "")[:MAX_TRACEBACK]

    def get_output(self, log: TaskExecutionLog) -> str:
        """Captured stdout, stderr and logging, cut at SCHEDULER["OUTPUT_LIMIT"] characters."""
        return self._masked(log.output or "")[: _output_limit()]

    def get_output_truncated(self, log: TaskExecutionLog) -> bool:
        return len(log.output or "") > _output_limit()


def _output_limit() -> int:
    return max(0, int(conf.get().OUTPUT_LIMIT))

"""Workflows: the edges between tasks, and one run of the graph as a traceable unit.

A task starts others when it ends, along :class:`WorkflowEdge` rows: on
success, on failure, or always. A :class:`WorkflowRun` is one pass through
the graph from the task that started it (its root); each task it reaches has
one :class:`WorkflowStep` row saying how far it got in that run, and every
execution log row of the run carries the run's id.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.tasks import ScheduledTask


class EdgeCondition(models.TextChoices):
    SUCCESS = "success", _("on success")
    FAILURE = "failure", _("on failure")
    ALWAYS = "always", _("always")


class StepStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    QUEUED = "queued", _("Queued")
    WAITING = "waiting", _("Waiting")
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


#: Step states after which a step starts nothing more in its run.
FINAL_STEP_STATUSES = frozenset({StepStatus.SUCCESS, StepStatus.FAILED, StepStatus.SKIPPED})


class WorkflowRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Succeeded")
    FAILED = "failed", _("Failed")


class WorkflowEdgeQuerySet(models.QuerySet):
    def from_tasks(self, task_ids: list[int]) -> WorkflowEdgeQuerySet:
        return self.filter(source_id__in=task_ids)

    def into_tasks(self, task_ids: list[int]) -> WorkflowEdgeQuerySet:
        return self.filter(target_id__in=task_ids)


class WorkflowEdge(models.Model):
    """``source`` starts ``target`` when it ends with an outcome matching ``condition``."""

    source = models.ForeignKey(
        ScheduledTask,
        on_delete=models.CASCADE,
        related_name="outgoing_edges",
        verbose_name=_("from"),
    )
    target = models.ForeignKey(
        ScheduledTask,
        on_delete=models.CASCADE,
        related_name="incoming_edges",
        verbose_name=_("then run"),
    )
    condition = models.CharField(
        _("when"), max_length=8, choices=EdgeCondition.choices, default=EdgeCondition.SUCCESS
    )
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)

    objects = WorkflowEdgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("workflow edge")
        verbose_name_plural = _("workflow edges")
        ordering = ["source_id", "target_id"]
        constraints = [
            # One edge per pair: its condition says when; two conditions would be "always".
            models.UniqueConstraint(fields=["source", "target"], name="sched_edge_unique_pair"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="sched_edge_no_self"
            ),
        ]
        indexes = [models.Index(fields=["target"], name="sched_edge_target_idx")]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id} ({self.condition})"


class WorkflowRun(models.Model):
    """One run of a workflow graph, started by its root task ending."""

    root = models.ForeignKey(
        ScheduledTask,
        null=True,
        on_delete=models.SET_NULL,
        related_name="workflow_runs",
        verbose_name=_("started by"),
    )
    root_name = models.CharField(_("started by (name)"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=WorkflowRunStatus.choices,
        default=WorkflowRunStatus.RUNNING,
    )
    started_at = models.DateTimeField(_("started"), default=dj_timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("workflow run")
        verbose_name_plural = _("workflow runs")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["root", "-started_at"], name="sched_wfrun_root_idx")]

    def __str__(self) -> str:
        return f"Workflow run {self.pk} ({self.root_name})"


class WorkflowStep(models.Model):
    """How far one task got in one workflow run (the fan-in reads these)."""

    run = models.ForeignKey(
        WorkflowRun, on_delete=models.CASCADE, related_name="steps", verbose_name=_("run")
    )
    task = models.ForeignKey(
        ScheduledTask,
        on_delete=models.CASCADE,
        related_name="workflow_steps",
        verbose_name=_("task"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=StepStatus.choices, default=StepStatus.PLANNED
    )
    updated_at = models.DateTimeField(_("updated"), default=dj_timezone.now)

    class Meta:
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")
        constraints = [
            models.UniqueConstraint(fields=["run", "task"], name="sched_wfstep_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} in run {self.run_id}: {self.status}"

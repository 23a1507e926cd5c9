"""Edit the workflow graph: add, re-point and remove the edges between tasks.

An edge ``source → target`` (condition ``success``, ``failure`` or
``always``) makes ``target`` run when ``source`` ends that way; the engine
(``engine.workflows``) runs the graph, fan-in included. Editing an edge is
editing its source task: the user must be allowed to edit ``source`` and to
run ``target`` (the same rules as ``on_success`` chains). A target the user
may not view is reported as unknown (its existence is not revealed).

Example::

    draft = services.schedule(user=None, module="marketing", task_type="draft", ...)
    review = services.schedule(user=None, module="workflow", task_type="approval", ...)
    services.workflows.add_edge(draft, review, user=None)
    services.workflows.add_edge(review, send, user=None, condition="success")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import (
    AuditAction,
    EdgeCondition,
    ScheduledTask,
    TaskStatus,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
)
from scheduler_app.services import audit, chains
from scheduler_app.services.validation import quote, whole_number

#: Most tasks one workflow view gathers (a bound on the walk over the graph).
MAX_WORKFLOW_TASKS = 200


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


#: The largest id a database column holds (bigint).
MAX_ID = 2**63 - 1


def _id(value: Any, field: str, message: str) -> int:
    """``value`` as an id (a whole number, or its digits as text); else a field error that
    quotes at most a few words of it (``message`` has a %(value)s)."""
    pk = whole_number(value)
    if pk is None or not 1 <= pk <= MAX_ID:
        # Text is quoted cut short; an int too long to print is not printed.
        shown = quote(value) if isinstance(value, str) else type(value).__name__
        raise _error(field, message % {"value": shown}, "invalid")
    return pk


def _task(ref: Any, user: Any, field: str) -> ScheduledTask:
    """The task named by ``ref`` (a task or an id) as stored, if ``user`` may view it."""
    value = ref.pk if isinstance(ref, ScheduledTask) else ref
    pk = _id(value, field, _("“%(value)s” is not a task id."))
    found: Any = ScheduledTask.objects.filter(pk=pk)
    if user is not None:
        found = policy.viewable_queryset(user, found)
    task = found.first()
    if task is None:
        raise _error(field, _("No such task: %(id)s.") % {"id": pk}, "unknown_task")
    return task


def _condition(value: Any) -> str:
    if value not in EdgeCondition.values:
        raise _error(
            "condition",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(EdgeCondition.values)},
            "invalid_choice",
        )
    return str(value)


def _check_edit(user: Any, source: ScheduledTask) -> None:
    if user is not None and not policy.can_edit(user, source):
        raise PermissionDenied(
            _("You may not change “%(name)s”, so you cannot change what it starts.")
            % {"name": source.name}
        )


def _check_target(user: Any, source: ScheduledTask, target: ScheduledTask) -> None:
    if target.pk == source.pk:
        raise _error("target", _("A task cannot start itself."), "chain_cycle")
    if target.status == TaskStatus.CANCELLED:
        raise _error(
            "target",
            _("“%(name)s” is cancelled; it cannot run after another task.") % {"name": target.name},
            "cancelled",
        )
    if user is not None and not policy.can_run(user, target):
        raise PermissionDenied(
            _("You may not run “%(name)s”, so it cannot run after this task.")
            % {"name": target.name}
        )


def _refuse_cycle(source: ScheduledTask, target: ScheduledTask, user: Any) -> None:
    chains.lock()
    loop = chains.find_cycle(source.pk, [target.pk])
    if loop:
        path = chains.loop_path(loop, user)
        raise _error(
            "target",
            _(
                "This edge would make a cycle: %(path)s. A workflow cannot lead back to a "
                "step it has passed; remove one of these edges."
            )
            % {"path": path},
            "chain_cycle",
        )


def _audit(source: ScheduledTask, user: Any, old: Any, new: Any) -> None:
    audit.record(source, AuditAction.EDITED, user=user, changes={"edges": [old, new]})


def _label(edge: WorkflowEdge | None) -> str | None:
    return None if edge is None else f"{edge.condition} → {edge.target_id}"


def add_edge(
    source: ScheduledTask | int,
    target: ScheduledTask | int,
    *,
    user: Any,
    condition: str = EdgeCondition.SUCCESS,
) -> WorkflowEdge:
    """Make ``target`` run when ``source`` ends with ``condition``; return the new edge.

    Raises:
        ValidationError: on ``source``/``target``: unknown or hidden task,
            cancelled target, an edge that already exists, or a cycle (naming
            the tasks along it); on ``condition``: not one of the choices.
        PermissionDenied: the user may not edit ``source`` or run ``target``.
    """
    condition = _condition(condition)
    with transaction.atomic():
        src = _task(source, user, "source")
        dst = _task(target, user, "target")
        _check_edit(user, src)
        _check_new_edge(
            user, src, dst, _("“%(source)s” already starts “%(target)s”; change that edge instead.")
        )
        edge = WorkflowEdge.objects.create(source=src, target=dst, condition=condition)
        _audit(src, user, None, _label(edge))
    return edge


def _check_new_edge(user: Any, src: ScheduledTask, dst: ScheduledTask, duplicate: str) -> None:
    """Refuse an edge ``src`` → ``dst`` the user may not draw, that exists, or that closes a loop.

    ``duplicate`` is the message for an edge that exists (with ``%(source)s``, ``%(target)s``).
    """
    _check_target(user, src, dst)
    if WorkflowEdge.objects.filter(source=src, target=dst).exists():
        message = duplicate % {"source": src.name, "target": dst.name}
        raise _error("target", message, "duplicate_edge")
    _refuse_cycle(src, dst, user)


def change_edge(
    edge: WorkflowEdge | int,
    *,
    user: Any,
    target: ScheduledTask | int | None = None,
    condition: str | None = None,
) -> WorkflowEdge:
    """Re-point ``edge`` to another ``target`` and/or give it another ``condition``.

    Raises the errors of :func:`add_edge`; ``ValidationError`` on ``edge`` for an
    edge that does not exist or whose source the user may not view.
    """
    with transaction.atomic():
        current = _edge(edge, user)
        before = _label(current)
        src = current.source
        _check_edit(user, src)
        if condition is not None:
            current.condition = _condition(condition)
        if target is not None:
            dst = _task(target, user, "target")
            if dst.pk != current.target_id:
                _check_new_edge(user, src, dst, _("“%(source)s” already starts “%(target)s”."))
                current.target = dst
        current.save(update_fields=["condition", "target"])
        _audit(src, user, before, _label(current))
    return current


def remove_edge(edge: WorkflowEdge | int, *, user: Any) -> None:
    """Delete ``edge``: its target no longer runs after its source.

    Raises:
        ValidationError: on ``edge``: no such edge (or hidden).
        PermissionDenied: the user may not edit the edge's source.
    """
    with transaction.atomic():
        current = _edge(edge, user)
        _check_edit(user, current.source)
        before = _label(current)
        current.delete()
        _audit(current.source, user, before, None)


def _edge(ref: WorkflowEdge | int, user: Any) -> WorkflowEdge:
    value = ref.pk if isinstance(ref, WorkflowEdge) else ref
    pk = _id(value, "edge", _("“%(value)s” is not an edge id."))
    found = WorkflowEdge.objects.select_related("source", "target").filter(pk=pk)
    if user is not None:
        found = found.filter(source__in=policy.viewable_queryset(user))
    current = found.select_for_update(of=("self",)).first()
    if current is None:
        raise _error("edge", _("No such edge: %(id)s.") % {"id": pk}, "unknown_edge")
    return current


@dataclass(frozen=True)
class Workflow:
    """The tasks connected to one task through edges, and those edges (for views)."""

    tasks: list[ScheduledTask]
    edges: list[WorkflowEdge]
    latest_run: WorkflowRun | None
    steps: dict[int, str]  # task id -> step status in latest_run
    truncated: bool = False


def workflow_of(task: ScheduledTask, *, user: Any = None) -> Workflow:
    """The workflow ``task`` belongs to: every task reachable along edges either way.

    Tasks the user may not view are left out, with their edges. Bounded by
    :data:`MAX_WORKFLOW_TASKS`.
    """
    seen = {task.pk}
    frontier = [task.pk]
    edges: dict[int, WorkflowEdge] = {}
    truncated = False
    while frontier:
        found = list(
            WorkflowEdge.objects.filter(Q(source_id__in=frontier) | Q(target_id__in=frontier))
        )
        step: list[int] = []
        for edge in found:
            edges[edge.pk] = edge
            for pk in (edge.source_id, edge.target_id):
                if pk not in seen:
                    if len(seen) >= MAX_WORKFLOW_TASKS:
                        truncated = True
                        continue
                    seen.add(pk)
                    step.append(pk)
        frontier = step
    tasks_qs: Any = ScheduledTask.objects.filter(pk__in=seen)
    if user is not None:
        tasks_qs = policy.viewable_queryset(user, tasks_qs)
    tasks = sorted(tasks_qs, key=lambda t: t.pk)
    shown = {t.pk for t in tasks}
    kept = sorted(
        (e for e in edges.values() if e.source_id in shown and e.target_id in shown),
        key=lambda e: (e.source_id, e.target_id),
    )
    latest = (
        WorkflowRun.objects.filter(steps__task_id__in=shown).order_by("-started_at", "-pk").first()
    )
    steps = (
        dict(WorkflowStep.objects.filter(run=latest).values_list("task_id", "status"))
        if latest
        else {}
    )
    return Workflow(tasks, kept, latest, steps, truncated)


def edges_from(tasks: Iterable[ScheduledTask]) -> list[WorkflowEdge]:
    """The outgoing edges of ``tasks`` with their targets (one query)."""
    return list(
        WorkflowEdge.objects.filter(source__in=[t.pk for t in tasks])
        .select_related("target")
        .order_by("source_id", "target_id")
    )

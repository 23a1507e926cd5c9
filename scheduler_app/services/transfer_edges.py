"""Workflow edges in export files: each task entry lists the tasks it starts.

An entry's ``edges`` is a list of ``{"module", "task_type", "name", "when"}``:
the target named as tasks are matched across databases (module, type and
name), ``when`` one of ``success``, ``failure``, ``always``. Importing sets
a task's outgoing edges to exactly that list (a missing ``edges`` key leaves
them alone), after every task of the file exists, through
``services.add_edge`` / ``change_edge`` / ``remove_edge``: cycles, hidden and
unknown targets are refused with their messages, naming the entry.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import ScheduledTask, TaskStatus, WorkflowEdge
from scheduler_app.services import workflows


def entry_edges(task: ScheduledTask) -> list[dict[str, str]]:
    """The outgoing edges of ``task`` as exported (prefetch ``outgoing_edges__target``)."""
    rows = [
        {
            "module": e.target.module_id,
            "task_type": e.target.task_type,
            "name": e.target.name,
            "when": e.condition,
        }
        for e in task.outgoing_edges.all()
    ]
    return sorted(rows, key=lambda r: (r["module"], r["task_type"], r["name"], r["when"]))


def normal(edges: Any) -> list[tuple[str, str, str, str]]:
    return sorted(
        (e.get("module"), e.get("task_type"), e.get("name"), e.get("when", "success"))
        for e in edges or []
    )


def _target(ref: dict[str, Any], user: Any) -> ScheduledTask:
    found: Any = ScheduledTask.objects.filter(
        module_id=ref["module"], task_type=ref["task_type"], name=ref["name"]
    ).exclude(status=TaskStatus.CANCELLED)
    if user is not None:
        found = policy.viewable_queryset(user, found)
    tasks = list(found.order_by("pk")[:2])
    label = f"{ref['module']}.{ref['task_type']} “{ref['name']}”"
    if not tasks:
        raise ValidationError(
            _("edges: no task %(label)s here (or not one you may see).") % {"label": label}
        )
    if len(tasks) > 1:
        raise ValidationError(
            _("edges: several tasks here are %(label)s; rename one first.") % {"label": label}
        )
    return tasks[0]


def apply(task: ScheduledTask, edges: list[dict[str, Any]], user: Any) -> None:
    """Make ``edges`` the outgoing edges of ``task`` (added, re-conditioned, removed)."""
    wanted = {}
    for ref in edges:
        target = _target(ref, user)
        wanted[target.pk] = ref.get("when") or "success"
    current = {e.target_id: e for e in WorkflowEdge.objects.filter(source=task)}
    for target_id, edge in current.items():
        if target_id not in wanted:
            workflows.remove_edge(edge, user=user)
        elif wanted[target_id] != edge.condition:
            workflows.change_edge(edge, user=user, condition=wanted[target_id])
    for target_id, condition in wanted.items():
        if target_id not in current:
            workflows.add_edge(task, target_id, user=user, condition=condition)


def find_task(entry: dict[str, Any], user: Any) -> ScheduledTask:
    """The task an entry names, once the import has created or updated it."""
    return _target(entry, user)

"""on_success chains: the ``success`` edges of the workflow graph, checked before saving.

``services.schedule(..., on_success=[...])`` and ``services.update(task,
on_success=[...])`` call :func:`resolve`: every chained task must exist, be
visible to the user and runnable by them, not be cancelled, and the chain
must not lead back to the task (a cycle would run for ever). They are stored
as :class:`~scheduler_app.models.WorkflowEdge` rows with the ``success``
condition (:func:`set_chain`); ``services.workflows`` edits edges of every
condition. The engine runs the graph (``engine.workflows.advance``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import EdgeCondition, ScheduledTask, TaskStatus, WorkflowEdge

# Serialises chain edits on PostgreSQL so two concurrent edits cannot close a loop together.
_ADVISORY_LOCK = 0x5C4E_D0C4


def _error(message: str, code: str) -> ValidationError:
    return ValidationError({"on_success": ValidationError(message, code=code)})


def _ids(refs: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for ref in refs:
        value = ref.pk if isinstance(ref, ScheduledTask) else ref
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise _error(_("“%(value)s” is not a task id.") % {"value": value}, "invalid") from None
        if pk not in ids:
            ids.append(pk)
    return ids


def chained_ids(task: ScheduledTask) -> list[int]:
    """The ids of the tasks ``task`` runs after it succeeds, in id order."""
    return sorted(
        WorkflowEdge.objects.filter(source_id=task.pk, condition=EdgeCondition.SUCCESS).values_list(
            "target_id", flat=True
        )
    )


def viewable_ids(ids: list[int], user: Any) -> list[int]:
    """Those of ``ids`` naming tasks ``user`` may view (all of them for the system), in order."""
    if user is None or not ids:
        return list(ids)
    seen = set(
        policy.viewable_queryset(user, ScheduledTask.objects.filter(pk__in=ids)).values_list(
            "pk", flat=True
        )
    )
    return [pk for pk in ids if pk in seen]


def set_chain(
    task: ScheduledTask, chained: list[ScheduledTask], *, untouched: Iterable[int] = ()
) -> None:
    """Make ``chained`` (already resolved) the success edges of ``task``.

    An edge of another condition to a task named here becomes a success edge;
    edges of other conditions to other tasks are left alone, and so are the
    success edges to ``untouched`` (tasks the person changing the chain may not view).
    """
    keep = [*(t.pk for t in chained), *untouched]
    WorkflowEdge.objects.filter(source_id=task.pk, condition=EdgeCondition.SUCCESS).exclude(
        target_id__in=keep
    ).delete()
    for target in chained:
        WorkflowEdge.objects.update_or_create(
            source_id=task.pk, target_id=target.pk, defaults={"condition": EdgeCondition.SUCCESS}
        )


def resolve(
    user: Any,
    refs: Iterable[Any],
    *,
    task: ScheduledTask | None = None,
) -> list[ScheduledTask]:
    """The tasks named by ``refs`` (tasks or ids) as a valid on_success chain of ``task``.

    ``task`` is None for a task not saved yet (it cannot be part of a loop).
    ``user=None`` is the system: no permission checks.

    Raises:
        ValidationError: on ``on_success``: unknown or hidden ids, cancelled
            tasks, or a loop (naming the tasks along it).
        PermissionDenied: a chained task the user may see but not run.
    """
    ids = _ids(refs)
    if not ids:
        return []
    found: QuerySet[ScheduledTask] = ScheduledTask.objects.filter(pk__in=ids)
    if user is not None:
        found = policy.viewable_queryset(user, found)
    targets = {t.pk: t for t in found}
    missing = [pk for pk in ids if pk not in targets]
    if missing:
        raise _error(
            _("No such task: %(ids)s.") % {"ids": ", ".join(map(str, missing))}, "unknown_task"
        )
    for target in targets.values():
        if target.status == TaskStatus.CANCELLED:
            raise _error(
                _("“%(name)s” is cancelled; it cannot run after another task.")
                % {"name": target.name},
                "cancelled",
            )
        if user is not None and not policy.can_run(user, target):
            raise PermissionDenied(
                _("You may not run “%(name)s”, so it cannot run after this task.")
                % {"name": target.name}
            )
    if task is not None and task.pk is not None:
        _lock()
        loop = find_cycle(task.pk, list(targets))
        if loop:
            path = loop_path(loop, user)
            raise _error(
                _(
                    "This chain would loop: %(path)s. A task cannot run again after "
                    "itself; remove one of these links."
                )
                % {"path": path},
                "chain_cycle",
            )
    return [targets[pk] for pk in ids]


def loop_path(loop: list[int], user: Any) -> str:
    """The tasks of ``loop`` by name, "“A” → “B”", for a message to ``user``.

    A loop may pass through tasks the user may not view (edges drawn by others):
    those are not named, so a refusal tells nothing about them but that they exist.
    """
    found: Any = ScheduledTask.objects.filter(pk__in=loop)
    if user is not None:
        found = policy.viewable_queryset(user, found)
    names = dict(found.values_list("pk", "name"))
    hidden = _("a task you cannot see")
    return " → ".join(f"“{names[pk]}”" if pk in names else hidden for pk in loop)


def find_cycle(task_pk: int, target_pks: list[int]) -> list[int] | None:
    """The loop ``task → target → … → task`` that edges to ``target_pks`` would make, or None.

    Walks the stored edges (of every condition) breadth-first from the
    targets: one query per level.
    """
    if task_pk in target_pks:
        return [task_pk, task_pk]
    came_from: dict[int, int | None] = dict.fromkeys(target_pks)
    frontier = list(target_pks)
    while frontier:
        step = []
        for source, target in WorkflowEdge.objects.filter(source_id__in=frontier).values_list(
            "source_id", "target_id"
        ):
            if target in came_from:
                continue
            came_from[target] = source
            if target == task_pk:
                path = [target]
                node: int | None = source
                while node is not None:
                    path.append(node)
                    node = came_from[node]
                return [task_pk, *reversed(path)]
            step.append(target)
        frontier = step
    return None


def lock() -> None:
    """Serialise graph edits (PostgreSQL, inside a transaction) so two cannot close a loop."""
    _lock()


def _lock() -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])

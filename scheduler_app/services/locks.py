"""Clear overlap locks left behind (e.g. after a host was lost), as a user may.

The rule is :func:`scheduler_app.policy.can_clear_lock`: module admins for
their module, scheduler admins for every module. A task the user may not see
is reported as missing (``ScheduledTask.DoesNotExist``), as everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.engine import locks
from scheduler_app.models import AuditAction, ScheduledTask, TaskStatus
from scheduler_app.services import audit
from scheduler_app.services.steps import require

#: Lock keys deleted per cache round trip by clear_locks().
CHUNK = 1000


def clear_lock(task: ScheduledTask, *, user: Any) -> bool:
    """Remove the overlap lock of ``task``; True if one was held (and then audited).

    Raises:
        ScheduledTask.DoesNotExist: the task is gone, or ``user`` may not see it.
        PermissionDenied: ``user`` may see the task but not clear its lock.
    """
    fresh = ScheduledTask.objects.get(pk=task.pk)
    if user is not None:
        if not policy.can_view(user, fresh):
            raise ScheduledTask.DoesNotExist(f"No task {task.pk!r}.")
        require(
            policy.can_clear_lock(user, fresh),
            _("Only an administrator of the module may clear a task's lock."),
        )
    held = locks.clear_lock(fresh.pk)
    if held:
        # Clearing a lock lets a second run start beside a live one: who did it matters.
        audit.record(fresh, AuditAction.LOCK_CLEARED, user=user)
    return held


def clear_locks(*, user: Any, queryset: QuerySet[ScheduledTask] | None = None) -> int:
    """Clear the locks of every task ``user`` may clear that is not running; the number cleared.

    Each lock cleared is an audit event of its task.

    Locks of running tasks protect live runs and are left alone (clear one
    explicitly with :func:`clear_lock`). ``queryset`` narrows the tasks.

    Raises:
        PermissionDenied: ``user`` may clear no lock at all (administers no module).
    """
    tasks = queryset if queryset is not None else ScheduledTask.objects.all()
    if user is not None:
        if not policy.administered_modules(user):
            raise PermissionDenied(_("Only a module or scheduler administrator may clear locks."))
        tasks = policy.lock_clearable_queryset(user, tasks)
    ids = tasks.exclude(status=TaskStatus.RUNNING).values_list("pk", flat=True)
    cleared = 0
    for chunk in _chunks(ids.iterator(chunk_size=2000)):
        held = [pk for pk in chunk if locks.is_locked(pk)]
        locks.release_many(chunk)
        cleared += len(held)
        for task in ScheduledTask.objects.filter(pk__in=held).only("pk", "name", "module_id"):
            audit.record(task, AuditAction.LOCK_CLEARED, user=user)
    return cleared


def _chunks(ids: Iterator[int]) -> Iterator[list[int]]:
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

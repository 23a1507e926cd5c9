"""Decide approval requests: who may, the decision itself, and the lists people see.

An approval step (task type ``workflow.approval``) opens an
:class:`~scheduler_app.models.Approval` when it runs
(:mod:`scheduler_app.services.approval_requests`); the people named by its
permission or group approve or reject it here, from the admin, the pages, the
e-mail link or the API, all through :func:`approve` and :func:`reject`.
After ``escalate_at`` the escalation permission or group may decide as well.
A decision makes the step due at once, so the workflow goes on within a pass.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.engine import wake
from scheduler_app.models import (
    Approval,
    ApprovalStatus,
    AuditAction,
    ScheduledTask,
    TaskExecutionLog,
    TaskStatus,
    lifecycle,
)
from scheduler_app.policy.permissions import full_name
from scheduler_app.services import audit
from scheduler_app.services.validation import quote, whole_number

#: Characters a decision's comment may have.
MAX_COMMENT = 2000


def _permissions_of(user: Any) -> set[str]:
    return set(user.get_all_permissions())


def _groups_of(user: Any) -> list[str]:
    return list(user.groups.values_list("name", flat=True))


def decidable_q(user: Any, now: dt.datetime) -> Q:
    """The approvals ``user`` may decide at ``now``, as a filter (no decision state)."""
    if not policy.is_active_user(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    perms, groups = _permissions_of(user), _groups_of(user)
    first = Q(permission__in=perms) & ~Q(permission="")
    first |= Q(group__in=groups) & ~Q(group="")
    second = Q(escalation_permission__in=perms) & ~Q(escalation_permission="")
    second |= Q(escalation_group__in=groups) & ~Q(escalation_group="")
    return first | (second & Q(escalate_at__lte=now))


def decidable(user: Any, now: dt.datetime | None = None) -> QuerySet[Approval]:
    """Open approvals ``user`` may decide now, newest first."""
    now = now or timezone.now()
    return Approval.objects.pending().filter(decidable_q(user, now)).newest_first()


def visible(user: Any, now: dt.datetime | None = None) -> QuerySet[Approval]:
    """Approvals ``user`` may see: those they may decide, and those of tasks they may view."""
    now = now or timezone.now()
    if not policy.is_active_user(user):
        return Approval.objects.none()
    tasks = policy.viewable_queryset(user, ScheduledTask.objects.all()).values("pk")
    return (
        Approval.objects.filter(decidable_q(user, now) | Q(task__in=tasks))
        .select_related("task", "decided_by")
        .newest_first()
    )


def storable_text(text: str) -> bool:
    """Whether every database stores ``text`` as it is (PostgreSQL refuses NUL and lone
    surrogates; SQLite would keep them and the pages would show them)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def for_module(approvals: QuerySet[Approval], module_id: str) -> QuerySet[Approval]:
    """The requests of one module's workflows: the step's own module, or its run's root's.

    An approval step's own module is ``workflow``; a marketing workflow's request
    belongs to marketing through the task that started the run. A module id that no
    database could hold (a NUL) names no module.
    """
    if not storable_text(module_id):
        return approvals.none()
    return approvals.filter(
        Q(task__module_id=module_id) | Q(workflow_run__root__module_id=module_id)
    )


def may_view(user: Any, approval: Approval, now: dt.datetime | None = None) -> bool:
    return visible(user, now).filter(pk=approval.pk).exists()


def is_approver(user: Any, approval: Approval, now: dt.datetime | None = None) -> bool:
    """Whether ``user`` is among the people who may decide ``approval`` at ``now``."""
    now = now or timezone.now()
    if not policy.is_active_user(user):
        return False
    if user.is_superuser:
        return True
    perms, groups = _permissions_of(user), set(_groups_of(user))
    named = (approval.permission and approval.permission in perms) or (
        approval.group and approval.group in groups
    )
    if named:
        return True
    if not approval.is_escalated(now):
        return False
    return bool(
        (approval.escalation_permission and approval.escalation_permission in perms)
        or (approval.escalation_group and approval.escalation_group in groups)
    )


def describe_approvers(approval: Approval, *, escalation: bool = False) -> str:
    """``"holders of scheduler_app.SA_X or members of Editors"`` for messages."""
    perm = approval.escalation_permission if escalation else approval.permission
    group = approval.escalation_group if escalation else approval.group
    parts = []
    if perm:
        parts.append(_("holders of %(perm)s") % {"perm": perm})
    if group:
        parts.append(_("members of %(group)s") % {"group": group})
    return _(" or ").join(parts) or _("nobody")


def approve(
    approval: Approval | int, *, user: Any, comment: str = "", now: dt.datetime | None = None
) -> Approval:
    """Approve ``approval`` as ``user``: its step succeeds and the workflow goes on.

    Raises:
        PermissionDenied: ``user`` is not an approver (permission, group,
            or the escalation set once escalated).
        ValidationError: on ``approval``: already decided or expired (nothing
            changes); on ``comment``: longer than :data:`MAX_COMMENT`.

    Example::

        services.approve(approval, user=request.user, comment="Looks good")
    """
    return _decide(approval, ApprovalStatus.APPROVED, user=user, comment=comment, now=now)


def reject(
    approval: Approval | int, *, user: Any, comment: str = "", now: dt.datetime | None = None
) -> Approval:
    """Reject ``approval`` as ``user``: its step fails (``failure`` edges run).

    Raises the same errors as :func:`approve`.
    """
    return _decide(approval, ApprovalStatus.REJECTED, user=user, comment=comment, now=now)


def _decide(
    ref: Approval | int, target: str, *, user: Any, comment: str, now: dt.datetime | None
) -> Approval:
    now = now or timezone.now()
    if comment is not None and not isinstance(comment, str):
        raise ValidationError({"comment": _("Enter the comment as text.")})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(
            {"comment": _("Keep the comment under %(max)d characters.") % {"max": MAX_COMMENT}}
        )
    if not storable_text(comment):
        raise ValidationError(
            {"comment": _("Remove the NUL and the characters that are not valid Unicode text.")}
        )
    pk = ref.pk if isinstance(ref, Approval) else whole_number(ref)
    if pk is None or not 1 <= pk <= 2**63 - 1:
        raise ValidationError({"approval": _("No such approval: %(id)s.") % {"id": quote(ref)}})
    with transaction.atomic():
        approval = Approval.objects.select_for_update().select_related("task").filter(pk=pk).first()
        if approval is None:
            raise ValidationError({"approval": _("No such approval: %(id)s.") % {"id": pk}})
        if user is not None and not is_approver(user, approval, now):
            raise PermissionDenied(
                _("Only %(who)s may decide “%(title)s”.")
                % {"who": describe_approvers(approval), "title": approval.title}
            )
        refuse_closed(approval, now)
        decided = lifecycle.decide(
            Approval.objects.filter(pk=approval.pk),
            target,
            decided_at=now,
            decided_by=user,
            decided_by_name=getattr(user, "username", "") if user is not None else "",
            comment=comment,
        )
        if decided != 1:
            # Closed between our read and our write (the row lock makes this rare).
            raise ValidationError(
                {"approval": ValidationError(_("This approval was already decided."), "decided")}
            )
        action = AuditAction.APPROVED if target == ApprovalStatus.APPROVED else AuditAction.REJECTED
        audit.record(
            approval.task,
            action,
            user=user,
            changes={"approval": [approval.pk, approval.title], "comment": [None, comment]},
            at=now,
        )
        wake_step(approval.task_id, now)
    approval.refresh_from_db()
    return approval


def refuse_closed(approval: Approval, now: dt.datetime) -> None:
    """Raise ValidationError (code ``decided`` or ``expired``) unless ``approval`` is open."""
    if approval.status != ApprovalStatus.PENDING:
        who = approval.decided_by_name or _("the scheduler")
        raise ValidationError(
            {
                "approval": ValidationError(
                    _("This approval was already decided: %(status)s, by %(who)s.")
                    % {"status": approval.get_status_display().lower(), "who": who},
                    "decided",
                )
            }
        )
    if approval.is_expired(now):
        raise ValidationError(
            {
                "approval": ValidationError(
                    _("This approval has expired; it can no longer be decided."),
                    "expired",
                )
            }
        )


def wake_step(task_id: int, now: dt.datetime) -> None:
    """Make the waiting approval step due now, so the next pass reads the decision."""
    # A run is recorded once per occurrence: never reuse the slot of the run that opened it.
    latest = (
        TaskExecutionLog.objects.filter(task_id=task_id, scheduled_for__gte=now)
        .order_by("-scheduled_for")
        .values_list("scheduled_for", flat=True)
        .first()
    )
    slot = latest + dt.timedelta(milliseconds=1) if latest else now
    # Lock the step's row: if its run is being recorded now, the recording waits for this
    # decision to commit and then sees it (engine.workflows._decided_while_running).
    list(ScheduledTask.objects.select_for_update().filter(pk=task_id).values_list("pk"))
    made_due = ScheduledTask.objects.filter(
        pk=task_id, status=TaskStatus.PENDING, enabled=True
    ).update(next_run=now, occurrence_at=slot)
    if made_due:
        wake.notify()


def full_permission(name: str) -> str:
    """``SA_MARKETING_ADMIN`` -> ``scheduler_app.SA_MARKETING_ADMIN``; ``app.codename`` kept."""
    return full_name(name.strip()) if name and name.strip() else ""

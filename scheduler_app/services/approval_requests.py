"""What an approval step does each time the engine runs it: open, wait, escalate, expire.

The step's body (``workflow.approval``) calls :func:`run_step`. The first run
opens an :class:`~scheduler_app.models.Approval` and notifies the approvers;
the step then answers "not yet" (``TaskResult.pending``) with its next check
at the escalation or expiry time, so it holds no worker while it waits. A
decision (:mod:`scheduler_app.services.approvals`) makes the step due at once;
the next run reads it and succeeds (approved) or fails for good (rejected,
expired), and the workflow's edges take over. Escalation and expiry happen in
the run that falls due at their time: the scheduler's pass drives them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import conf
from scheduler_app.context import TaskContext
from scheduler_app.models import Approval, ApprovalStatus, AuditAction, ScheduledTask, lifecycle
from scheduler_app.notifications import EMAIL, IN_APP, Message, NotificationError, Origin, notify
from scheduler_app.providers import TaskResult
from scheduler_app.schedules.timestamps import format_when
from scheduler_app.services import approval_links, audit
from scheduler_app.services.approvals import full_permission

logger = logging.getLogger("scheduler_app.approvals")

#: Most people one request notifies (a bound; everyone named may still decide).
MAX_RECIPIENTS = 200
#: How often a request without expiry is looked at again (it keeps waiting).
IDLE_CHECK = dt.timedelta(days=1)


def run_step(context: TaskContext, now: dt.datetime | None = None) -> TaskResult:
    """One run of an approval step: the TaskResult the engine records."""
    now = now or timezone.now()
    task = ScheduledTask.objects.get(pk=context.task_id)
    # The request of this run; or one opened before the run existed (a step that is the
    # root of its workflow opens its request in the run that then starts the workflow).
    approval = (
        Approval.objects.filter(task=task, step_ended=False)
        .filter(Q(workflow_run_id=task.workflow_run_id) | Q(workflow_run__isnull=True))
        .order_by("-requested_at", "-pk")
        .first()
    )
    if approval is not None and approval.workflow_run_id != task.workflow_run_id:
        Approval.objects.filter(pk=approval.pk).update(workflow_run_id=task.workflow_run_id)
        approval.workflow_run_id = task.workflow_run_id
    if approval is None:
        approval = open_request(task, context.config, now)
        _notify(approval, now, escalation=False)
        return _waiting(approval, now)
    if approval.status == ApprovalStatus.PENDING:
        if approval.is_expired(now):
            expire(approval, now)
            approval.refresh_from_db()
        elif approval.is_escalated(now) and approval.escalated_at is None:
            if escalate(approval, now):
                _notify(approval, now, escalation=True)
            return _waiting(approval, now)
        else:
            return _waiting(approval, now)
    return _ended(approval)


def open_request(task: ScheduledTask, config: dict[str, Any], now: dt.datetime) -> Approval:
    """Open a request for ``task``'s current workflow run from the step's ``config``."""

    def minutes(key: str) -> dt.datetime | None:
        value = config.get(key)
        return now + dt.timedelta(minutes=int(value)) if value else None

    return Approval.objects.create(
        task=task,
        workflow_run_id=task.workflow_run_id,
        title=str(config.get("title") or task.name)[:200],
        message=str(config.get("message") or "")[:4000],
        permission=full_permission(str(config.get("permission") or "")),
        group=str(config.get("group") or "")[:150],
        escalation_permission=full_permission(str(config.get("escalation_permission") or "")),
        escalation_group=str(config.get("escalation_group") or "")[:150],
        requested_at=now,
        escalate_at=minutes("escalate_after_minutes"),
        expires_at=minutes("expire_after_minutes"),
    )


def escalate(approval: Approval, now: dt.datetime) -> bool:
    """Mark ``approval`` escalated (once); True if this call did it."""
    with transaction.atomic():
        done = Approval.objects.filter(
            pk=approval.pk, status=ApprovalStatus.PENDING, escalated_at__isnull=True
        ).update(escalated_at=now)
        if done:
            audit.record(
                approval.task,
                AuditAction.ESCALATED,
                user=None,
                changes={"approval": [approval.pk, approval.title]},
                at=now,
            )
    approval.escalated_at = now if done else approval.escalated_at
    return bool(done)


def expire(approval: Approval, now: dt.datetime) -> bool:
    """Reject ``approval`` automatically because its time is up; True if this call did it."""
    with transaction.atomic():
        done = lifecycle.decide(
            Approval.objects.filter(pk=approval.pk),
            ApprovalStatus.EXPIRED,
            decided_at=now,
            comment=_("No decision before the deadline."),
        )
        if done:
            audit.record(
                approval.task,
                AuditAction.EXPIRED,
                user=None,
                changes={"approval": [approval.pk, approval.title]},
                at=now,
            )
    return bool(done)


def _waiting(approval: Approval, now: dt.datetime) -> TaskResult:
    upcoming = [
        when
        for when in (
            approval.escalate_at if approval.escalated_at is None else None,
            approval.expires_at,
        )
        if when is not None and when > now
    ]
    return TaskResult.pending(next_run=min(upcoming) if upcoming else now + IDLE_CHECK)


def _ended(approval: Approval) -> TaskResult:
    Approval.objects.filter(pk=approval.pk).update(step_ended=True)
    data = {
        "approval": approval.pk,
        "status": approval.status,
        "decided_by": approval.decided_by_name,
        "comment": approval.comment,
    }
    who = approval.decided_by_name or _("the scheduler")
    said = f": {approval.comment}" if approval.comment else ""
    if approval.status == ApprovalStatus.APPROVED:
        return TaskResult.success(
            _("Approved by %(who)s%(said)s") % {"who": who, "said": said}, data=data
        )
    if approval.status == ApprovalStatus.EXPIRED:
        return TaskResult.failure(
            _("Nobody decided in time: rejected automatically."), data=data, retry=False
        )
    return TaskResult.failure(
        _("Rejected by %(who)s%(said)s") % {"who": who, "said": said}, data=data, retry=False
    )


def approvers(approval: Approval, *, escalation: bool = False) -> list[Any]:
    """The active users named by the request's permission or group (bounded)."""
    user_model = get_user_model()
    perm = approval.escalation_permission if escalation else approval.permission
    group = approval.escalation_group if escalation else approval.group
    found: dict[Any, Any] = {}
    if perm:
        # Model permissions (user and group): object permissions do not name approvers.
        holders = user_model.objects.with_perm(
            perm, include_superusers=False, backend="django.contrib.auth.backends.ModelBackend"
        )
        for user in holders[:MAX_RECIPIENTS]:
            found[user.pk] = user
    if group:
        for user in user_model.objects.filter(groups__name=group, is_active=True)[:MAX_RECIPIENTS]:
            found[user.pk] = user
    return list(found.values())[:MAX_RECIPIENTS]


def _deadlines(approval: Approval, now: dt.datetime) -> str:
    """Until when the request can be decided and its e-mail's links used, in the task's zone.

    The links expire APPROVAL_LINK_MAX_AGE after they are made (now); a request with a
    deadline ends there. Whichever comes first is what the reader needs to know.
    """
    links_until = now + dt.timedelta(seconds=conf.get().APPROVAL_LINK_MAX_AGE)
    expires = approval.expires_at
    zone = approval.task
    if expires is not None and expires <= links_until:
        return _("Decide by %(when)s: after that the request is rejected automatically.") % {
            "when": format_when(expires, zone)
        }
    if expires is not None:
        return _(
            "The links work until %(links)s; after that, open the request. "
            "It is rejected automatically if nobody decides by %(when)s."
        ) % {"links": format_when(links_until, zone), "when": format_when(expires, zone)}
    return _("The links work until %(links)s; after that, open the request.") % {
        "links": format_when(links_until, zone)
    }


def channels_of(config: Any) -> list[str]:
    """The channels a step's requests go out on: its ``channels``, or e-mail and in-app."""
    chosen = config.get("channels") if isinstance(config, dict) else None
    return list(chosen) if chosen else [EMAIL, IN_APP]


def _notify(approval: Approval, now: dt.datetime, *, escalation: bool) -> None:
    """E-mail each approver their own signed links; tell them in the app too."""
    people = approvers(approval, escalation=escalation)
    if not people:
        logger.warning(
            "Approval %s: nobody to notify (no approver holds the permission).", approval.pk
        )
        return
    channels = channels_of(approval.task.config)
    subject = (
        _("Escalated approval: %(title)s") if escalation else _("Approval needed: %(title)s")
    ) % {"title": approval.title}
    origin = Origin(
        task_id=approval.task_id,
        task_name=approval.task.name,
        module_id=approval.task.module_id,
        run_key=f"approval-{approval.pk}{'-escalated' if escalation else ''}",
    )
    page = approval_links.page_url(approval)
    try:
        if IN_APP in channels:
            notify(
                people,
                Message(subject=subject, text=approval.message or subject, url=page),
                [IN_APP],
                origin,
            )
        if EMAIL in channels:
            deadlines = _deadlines(approval, now)
            for person in people:
                approve_url = approval_links.link_url(approval, person, "approve")
                reject_url = approval_links.link_url(approval, person, "reject")
                text = "\n\n".join(
                    part
                    for part in (
                        approval.message,
                        _("Approve: %(url)s") % {"url": approve_url},
                        _("Reject: %(url)s") % {"url": reject_url},
                        _("Or open the request: %(url)s") % {"url": page},
                        deadlines,
                    )
                    if part
                )
                notify(
                    [person], Message(subject=subject, text=text, url=approve_url), [EMAIL], origin
                )
    except NotificationError as exc:
        # The request stays open and decidable on the pages; the failure is logged, not retried.
        logger.warning("Approval %s: notifying the approvers failed: %s", approval.pk, exc)

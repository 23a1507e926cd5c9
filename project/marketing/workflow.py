"""The content-approval workflow of a post: draft → review → scheduled publish → report.

Four steps, each a scheduled task, joined by workflow edges::

    submit ──success──▶ review (workflow.approval) ──always──▶ publish ──always──▶ report

* **submit** (``marketing.submit_for_review``) moves the draft to *in review*;
* **review** is scheduler_app's approval step: the holders of the reviewers'
  permission (``SA_MARKETING_ADMIN`` by default) are asked by e-mail and in the
  app, and decide with ``services.approve`` / ``services.reject`` (or its pages);
* **publish** (``marketing.publish_post`` with ``review_step``) reads the
  decision: approved, it marks the post approved and waits until its
  ``publish_at`` (the step stays open, holding no worker), then publishes it on
  its channel; rejected or expired, it marks the post rejected and fails;
* **report** (``marketing.content_report``) tells the author how it ended.

The publish step follows the review on ``always`` (not ``success``), so a
rejection is written on the post too; the workflow run then ends failed, as
the review step failed.

The steps are owned by the system: the author need not hold ``SA_WORKFLOW``
(approval steps are the module's rule, not the author's choice). Whoever may
schedule marketing tasks may start a post's flow.

When the flow's workflow run ends (however it ends), its four steps are
cancelled (:func:`end_finished_flow`, a receiver of ``task_executed``): they
never run again and show as cancelled, while their runs, audit trail and the
run's graph stay as the record of the post's review. Sending the
post for review again builds four new steps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from project.marketing.models import Post, PostStatus
from scheduler_app import policy, services
from scheduler_app.models import (
    AuditSource,
    ScheduledTask,
    TaskExecutionLog,
    TaskStatus,
    WorkflowRun,
)
from scheduler_app.services import audit

MODULE_ID = "marketing"
#: The event the steps listen to, which nobody emits: a step runs when its parent starts it.
STEP_EVENT = "marketing.workflow.step"
#: Characters of a post's text quoted in the review request.
QUOTED = 600


@dataclass(frozen=True)
class ContentFlow:
    submit: ScheduledTask
    review: ScheduledTask
    publish: ScheduledTask
    report: ScheduledTask


def _step(name: str, module: str, task_type: str, config: dict[str, Any], post: Post) -> Any:
    return services.schedule(
        user=None,
        module=module,
        task_type=task_type,
        config=config,
        schedule_type="event",
        event=STEP_EVENT,
        name=name[:200],
        max_retries=0 if task_type in {"approval", "submit_for_review"} else 3,
        tags=["content-approval", f"post-{post.pk}"],
    )


def start_content_approval(
    post: Post,
    *,
    user: Any,
    reviewers: str = "SA_MARKETING_ADMIN",
    escalate_after_minutes: int | None = None,
    escalation_permission: str = "SA_SCHEDULER_ADMIN",
    expire_after_minutes: int | None = None,
    report_channels: tuple[str, ...] = ("in_app", "email"),
    now: dt.datetime | None = None,
) -> ContentFlow:
    """Build the post's four steps and start the first; return them.

    Raises:
        PermissionDenied: ``user`` may not schedule marketing tasks.
        ValidationError: the post is not a draft (or rejected), or is in review already
            (field ``post``); a bad reviewers' permission (field ``config``).
    """
    if user is not None and not policy.can_schedule(user, MODULE_ID):
        raise PermissionDenied("You may not schedule marketing tasks.")
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("channel").get(pk=post.pk)
        if post.status not in (PostStatus.DRAFT, PostStatus.REJECTED):
            raise ValidationError(
                {
                    "post": f"“{post.title[:80]}” is {post.get_status_display().lower()}: only "
                    "a draft or a rejected post is sent for review."
                },
                code="not_draft",
            )
        title = post.title[:80]
        review_config: dict[str, Any] = {
            "title": f"Publish the post “{title}” on {post.channel.name[:60]}?",
            "message": post.text[:QUOTED] + ("…" if len(post.text) > QUOTED else ""),
            "permission": reviewers,
        }
        if escalate_after_minutes:
            review_config["escalate_after_minutes"] = escalate_after_minutes
            review_config["escalation_permission"] = escalation_permission
        if expire_after_minutes:
            review_config["expire_after_minutes"] = expire_after_minutes
        submit = _step(
            f"“{title}”: submit for review", MODULE_ID, "submit_for_review", {"post": post.pk}, post
        )
        review = _step(f"“{title}”: review", "workflow", "approval", review_config, post)
        publish = _step(
            f"“{title}”: publish",
            MODULE_ID,
            "publish_post",
            {"post": post.pk, "review_step": review.pk},
            post,
        )
        report = _step(
            f"“{title}”: report",
            MODULE_ID,
            "content_report",
            {"post": post.pk, "days": 7, "channels": list(report_channels)},
            post,
        )
        services.add_edge(submit, review, user=None, condition="success")
        services.add_edge(review, publish, user=None, condition="always")
        services.add_edge(publish, report, user=None, condition="always")
        post.review_step = review
        post.save(update_fields=["review_step", "updated_at"])
        services.run_now(submit, user=None, now=now or timezone.now())
    return ContentFlow(submit=submit, review=review, publish=publish, report=report)


def end_finished_flow(sender: Any, *, task: ScheduledTask, log: Any = None, **kwargs: Any) -> None:
    """Cancel a content flow's steps once the workflow run of ``task``'s run has ended.

    Connected to ``scheduler_app.signals.task_executed`` (sent after the run's
    outcome, and the workflow's, are committed). Other tasks cost no query.
    """
    if task.event_name != STEP_EVENT or log is None or log.pk is None:
        return
    run_id = TaskExecutionLog.objects.filter(pk=log.pk).values_list("workflow_run_id", flat=True)
    run = WorkflowRun.objects.filter(pk__in=run_id, finished_at__isnull=False).first()
    if run is None:
        return  # the flow goes on (or this run was outside any workflow)
    steps = ScheduledTask.objects.filter(
        workflow_steps__run=run, event_name=STEP_EVENT, is_system=False
    ).exclude(status=TaskStatus.CANCELLED)
    with audit.acting_from(AuditSource.SYSTEM):  # the module's own housekeeping
        for step in steps.distinct():
            try:
                services.cancel(step, user=None)
            except ValidationError:
                pass  # cancelled meanwhile, or running again: the next end cancels it

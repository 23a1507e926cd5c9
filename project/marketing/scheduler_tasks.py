"""The schedulable tasks of the marketing module (autodiscovered by scheduler_app)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from project.marketing import sending
from project.marketing.adapters import PublishError, adapter_for
from project.marketing.forms import (
    ABPickWinnerForm,
    ABSendVariantsForm,
    ContentReportForm,
    EmailCampaignForm,
    PublishPostForm,
    SubmitForReviewForm,
)
from project.marketing.models import (
    ABTest,
    Campaign,
    CampaignReport,
    Post,
    PostStatus,
)
from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register
from scheduler_app.context import TaskContext
from scheduler_app.notifications import Message, Outbox

#: Titles named in a content report (the counts are complete).
TITLES_SHOWN = 20


def pk_of(value: Any) -> Any:
    """The primary key of a config's chosen object (the cleaned config holds the object)."""
    return getattr(value, "pk", value)


def apply_review(post: Post, review_step: Any) -> str | None:
    """Write the decision of the post's approval step on it; a reason if it is not approved.

    Only a post in review takes a decision (one decided before keeps its own).
    """
    from scheduler_app.models import Approval, ApprovalStatus

    if post.status != PostStatus.IN_REVIEW:
        return None
    decision = (
        Approval.objects.filter(task_id=review_step)
        .exclude(status=ApprovalStatus.PENDING)
        .order_by("-decided_at", "-pk")
        .first()
    )
    if decision is None:
        return f"“{post.title}” has no review decision yet."
    who = decision.decided_by or None
    if decision.status == ApprovalStatus.APPROVED:
        post.approve(who, decision.comment, decision.decided_at)
        return None
    post.reject(who, decision.comment, decision.decided_at)
    verb = "expired unreviewed" if decision.status == ApprovalStatus.EXPIRED else "was rejected"
    by = f" by {decision.decided_by_name}" if decision.decided_by_name else ""
    note = f": {decision.comment[:200]}" if decision.comment else ""
    return f"“{post.title}” {verb}{by}{note}"


class SubmitForReview(SchedulableTask):
    name = "Submit a post for review"
    description = "Move a draft (or rejected) post to “in review”: the first step of its approval."
    config_form = SubmitForReviewForm

    def execute(self, context: TaskContext) -> TaskResult:
        with transaction.atomic():
            post = Post.objects.select_for_update().filter(pk=pk_of(context.config.get("post")))
            found = post.first()
            if found is None:
                return TaskResult.failure("The post no longer exists.", retry=False)
            if found.status == PostStatus.IN_REVIEW:
                return TaskResult.success(f"“{found.title}” is in review already.")
            if found.status not in (PostStatus.DRAFT, PostStatus.REJECTED):
                return TaskResult.failure(
                    f"“{found.title}” is {found.get_status_display().lower()}: only a draft "
                    "or a rejected post is sent for review.",
                    retry=False,
                )
            found.submit_for_review()
        return TaskResult.success(
            f"“{found.title}” is waiting for review.", data={"post": found.pk}
        )


class PublishPost(SchedulableTask):
    name = "Publish a social post"
    description = (
        "Publish an approved post on its channel (console, file or HTTP endpoint); "
        "waits until its “publish at” time, publishes once."
    )
    config_form = PublishPostForm

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        with transaction.atomic():
            # The row lock makes two runs racing on one post publish it once.
            post = (
                Post.objects.select_for_update()
                .select_related("channel")
                .filter(pk=pk_of(context.config.get("post")))
                .first()
            )
            if post is None:
                return TaskResult.failure("The post no longer exists.", retry=False)
            review_step = context.config.get("review_step")
            if review_step:
                refused = apply_review(post, review_step)
                if refused:
                    return TaskResult.failure(refused, data={"post": post.pk}, retry=False)
            if post.status == PostStatus.PUBLISHED:
                return TaskResult.success(
                    f"“{post.title}” was already published.", data={"post": post.pk}
                )
            if post.status != PostStatus.APPROVED:
                return TaskResult.failure(
                    f"“{post.title}” is {post.get_status_display().lower()}: only approved "
                    "posts are published.",
                    data={"post": post.pk, "status": post.status},
                    retry=False,
                )
            if post.publish_at and post.publish_at > now:
                return TaskResult.pending(next_run=post.publish_at)
            channel = post.channel
            if not channel.enabled:
                return TaskResult.failure(
                    f"Channel “{channel.name}” is disabled.", data={"post": post.pk}, retry=False
                )
            try:
                ref = adapter_for(channel).publish(channel, post)
            except PublishError as exc:
                if exc.retry:
                    Post.objects.filter(pk=post.pk).update(last_error=str(exc)[:500])
                else:
                    post.mark_failed(str(exc))
                return TaskResult.failure(
                    f"“{post.title}” not published on {channel.name}: {exc}",
                    data={"post": post.pk},
                    retry=exc.retry,
                )
            post.mark_published(ref, now)
        return TaskResult.success(
            f"Published “{post.title}” on {channel.name} ({ref}).",
            data={"post": post.pk, "channel": channel.name, "ref": ref},
        )


class EmailCampaign(SchedulableTask):
    name = "E-mail campaign"
    description = (
        "Mail a campaign to every subscribed subscriber in batches through Django's mail; "
        "each run reports what it sent, and nobody gets it twice."
    )
    config_form = EmailCampaignForm
    default_timeout = 3600

    def execute(self, context: TaskContext) -> TaskResult:
        campaign = Campaign.objects.filter(pk=pk_of(context.config.get("campaign"))).first()
        if campaign is None:
            return TaskResult.failure("The campaign no longer exists.", retry=False)
        report = sending.send_campaign(
            campaign,
            batch_size=context.config.get("batch_size") or 100,
            limit=context.config.get("max_per_run") or 10_000,
            task_id=context.task_id,
            progress=context.progress,
        )
        data = {
            "campaign": campaign.pk,
            "report": report.pk,
            "sent": report.sent,
            "failed": report.failed,
            "already_sent": report.already_sent,
            "left": report.left,
            "batches": report.batches,
            "errors": report.errors,
        }
        summary = (
            f"“{campaign.name}”: sent {report.sent} in {report.batches} batch(es), "
            f"{report.failed} failed, {report.left} left, {report.already_sent} reached before."
        )
        if report.failed and not report.sent:
            return TaskResult.failure(summary, data=data)  # retried: the server may be back
        return TaskResult.success(summary, data=data)


class ABSendVariants(SchedulableTask):
    name = "A/B test: send the variants"
    description = (
        "Mail variant A or B to the test share of the subscribers, split as the test says."
    )
    config_form = ABSendVariantsForm

    def execute(self, context: TaskContext) -> TaskResult:
        test = ABTest.objects.filter(pk=pk_of(context.config.get("test"))).first()
        if test is None:
            return TaskResult.failure("The A/B test no longer exists.", retry=False)
        report = sending.send_variants(
            test, batch_size=context.config.get("batch_size") or 100, progress=context.progress
        )
        counts = {s.variant: s.sent for s in sending.scores(test)}
        data = {"test": test.pk, "sent": report.sent, "failed": report.failed, "by_variant": counts}
        summary = (
            f"“{test.name}”: variant A to {counts['a']}, B to {counts['b']}; "
            f"{report.failed} failed."
        )
        if report.failed:
            return TaskResult.failure(summary, data=data)  # the unsent are sent on the retry
        return TaskResult.success(summary, data=data)


class ABPickWinner(SchedulableTask):
    name = "A/B test: pick the winner"
    description = (
        "After the test's waiting time, pick the variant with the higher click rate and mail "
        "it to everyone else (waits if scheduled too early)."
    )
    config_form = ABPickWinnerForm
    default_timeout = 3600

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        test = ABTest.objects.filter(pk=pk_of(context.config.get("test"))).first()
        if test is None:
            return TaskResult.failure("The A/B test no longer exists.", retry=False)
        decide_at = test.decide_at()
        if decide_at is None:
            return TaskResult.failure(
                f"The variants of “{test.name}” were not sent yet: schedule “A/B test: send "
                "the variants” first.",
                retry=False,
            )
        if now < decide_at:
            return TaskResult.pending(next_run=decide_at)
        winner = test.winner or sending.pick_winner(test, now)
        scores = {s.variant: {"sent": s.sent, "clicks": s.clicks} for s in sending.scores(test)}
        report = sending.send_winner(
            test, batch_size=context.config.get("batch_size") or 100, progress=context.progress
        )
        data = {
            "test": test.pk,
            "winner": winner,
            "scores": scores,
            "sent": report.sent,
            "failed": report.failed,
        }
        summary = (
            f"“{test.name}”: variant {winner.upper()} won "
            f"(A {scores['a']['clicks']}/{scores['a']['sent']}, "
            f"B {scores['b']['clicks']}/{scores['b']['sent']} clicks); "
            f"sent to {report.sent} more, {report.failed} failed."
        )
        if report.failed:
            return TaskResult.failure(summary, data=data)
        return TaskResult.success(summary, data=data)


class ContentReport(SchedulableTask):
    name = "Marketing report"
    description = (
        "Tell the owner (and a post's author) what was published, mailed and tested lately."
    )
    config_form = ContentReportForm

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        since = now - dt.timedelta(days=context.config.get("days") or 7)
        published = Post.objects.filter(published_at__gte=since).order_by("published_at", "pk")
        waiting = Post.objects.filter(status=PostStatus.IN_REVIEW).count()
        reports = CampaignReport.objects.filter(started_at__gte=since)
        mailed = reports.aggregate(sent=Sum("sent"), failed=Sum("failed"))
        decided = ABTest.objects.filter(decided_at__gte=since)
        lines = [f"Published posts: {published.count()}"]
        lines += [f"- {p.title} ({p.channel}, {p.published_ref})" for p in published[:TITLES_SHOWN]]
        lines.append(f"Posts waiting for review: {waiting}")
        lines.append(
            f"Campaign mails: {mailed['sent'] or 0} sent, {mailed['failed'] or 0} failed "
            f"in {reports.count()} run(s)"
        )
        lines += [f"A/B test “{t.name}”: variant {t.winner.upper()} won" for t in decided]
        people: list[Any] = []
        if context.owner_id:
            people.extend(get_user_model().objects.filter(pk=context.owner_id))
        about = Post.objects.filter(pk=pk_of(context.config.get("post"))).first()
        if about is not None:
            said = f" Review: {about.review_comment}" if about.review_comment else ""
            lines.insert(0, f"“{about.title}”: {about.get_status_display().lower()}.{said}")
            if about.author_id:
                people.append(about.author)
        subject = "Marketing report"
        if about is not None:
            subject = f"Post “{about.title[:80]}”: {about.get_status_display().lower()}"
        outbox = Outbox(context)
        if people:
            outbox.send(
                people,
                Message(
                    subject=subject,
                    text="\n".join(lines),
                    key=f"report-{int(now.timestamp())}",
                ),
            )
        data = {
            "published": published.count(),
            "waiting_review": waiting,
            "mails_sent": mailed["sent"] or 0,
            "mails_failed": mailed["failed"] or 0,
        }
        if about is not None:
            data["post"] = about.pk
            data["post_status"] = about.status
        return outbox.result(
            f"{data['published']} post(s) published, {data['mails_sent']} mail(s) sent.",
            data=data,
        )


@register
class MarketingProvider(TaskProvider):
    module_id = "marketing"
    name = "Marketing"
    base_permission = "SA_MARKETING"
    page_url_name = "marketing:schedules"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {
        "submit_for_review": SubmitForReview,
        "publish_post": PublishPost,
        "email_campaign": EmailCampaign,
        "ab_send_variants": ABSendVariants,
        "ab_pick_winner": ABPickWinner,
        "content_report": ContentReport,
    }

"""The marketing content-approval workflow end to end: draft → review → scheduled publish → report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from project.marketing.models import Channel, ChannelKind, Post, PostStatus
from project.marketing.workflow import start_content_approval
from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import (
    Approval,
    ApprovalStatus,
    Notification,
    RunStatus,
    ScheduledTask,
    TaskAuditEvent,
    TaskExecutionLog,
    TaskStatus,
    WorkflowRun,
)

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PUBLISH_AT = START + dt.timedelta(hours=2)


@pytest.fixture(autouse=True)
def inline(settings, tmp_path):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline", "RETRY_JITTER": 0}
    settings.MARKETING_OUTBOX_DIR = str(tmp_path / "outbox")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def author(make_user):
    return make_user(
        "scheduler_app.SA_SCHEDULER",
        "scheduler_app.SA_MARKETING",
        username="author",
        email="author@example.com",
    )


@pytest.fixture
def reviewer(make_user):
    return make_user(
        "scheduler_app.SA_MARKETING_ADMIN", username="reviewer", email="reviewer@example.com"
    )


@pytest.fixture
def post(db, author):
    channel = Channel.objects.create(name="Feed", kind=ChannelKind.FILE, target="feed.jsonl")
    return Post.objects.create(
        title="Summer launch",
        text="Our summer range is here.",
        channel=channel,
        author=author,
        publish_at=PUBLISH_AT,
    )


def passes(count: int = 3) -> None:
    for _ in range(count):
        run_pass(PassOptions())


def assert_flow_ended(flow) -> None:
    """Every step of ``flow`` is cancelled by the system, its runs and trail kept."""
    steps = [flow.submit, flow.review, flow.publish, flow.report]
    ids = [t.pk for t in steps]
    assert set(ScheduledTask.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        TaskStatus.CANCELLED
    }
    cancelled = TaskAuditEvent.objects.filter(task_ref__in=ids, action="cancelled")
    assert sorted(cancelled.values_list("task_ref", flat=True)) == sorted(ids)
    assert set(cancelled.values_list("source", flat=True)) == {"system"}
    assert TaskExecutionLog.objects.filter(task=flow.submit).exists()


def published_lines(settings) -> list[dict]:
    path = Path(settings.MARKETING_OUTBOX_DIR) / "feed.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def status(post: Post) -> str:
    post.refresh_from_db()
    return post.status


@pytest.mark.django_db(transaction=True)
def test_an_approved_post_is_published_at_its_time_and_the_author_gets_the_report(
    post, author, reviewer, clock, settings
):
    flow = start_content_approval(post, user=author)
    passes()

    # Submitted, and the reviewers are asked (mail with one-click links, and in the app).
    assert status(post) == PostStatus.IN_REVIEW
    approval = Approval.objects.get(task=flow.review)
    assert approval.status == ApprovalStatus.PENDING
    assert "Summer launch" in approval.title and "summer range" in approval.message
    [request_mail] = mail.outbox
    assert request_mail.to == ["reviewer@example.com"] and "/approvals/link/" in request_mail.body
    post.refresh_from_db()
    assert post.review_step == flow.review

    clock.shift(dt.timedelta(minutes=10))
    services.approve(approval, user=reviewer, comment="Lovely")
    passes()

    # Approved, but not before its time: the publish step waits, holding no worker.
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert (post.reviewed_by, post.review_comment) == (reviewer, "Lovely")
    assert post.reviewed_at == START + dt.timedelta(minutes=10)
    assert published_lines(settings) == []
    flow.publish.refresh_from_db()
    assert flow.publish.next_run == PUBLISH_AT
    assert not TaskExecutionLog.objects.filter(task=flow.report).exists()

    clock.move_to(PUBLISH_AT + dt.timedelta(seconds=1))
    passes()

    assert [line["title"] for line in published_lines(settings)] == ["Summer launch"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at == PUBLISH_AT + dt.timedelta(seconds=1)
    report_log = TaskExecutionLog.objects.get(task=flow.report)
    assert report_log.status == RunStatus.SUCCESS
    assert report_log.result["data"]["post_status"] == "published"
    [report_mail] = [m for m in mail.outbox if m.to == ["author@example.com"]]
    assert report_mail.subject == "Post “Summer launch”: published"
    assert "Review: Lovely" in report_mail.body
    assert Notification.objects.filter(recipient=author).exists()
    run = WorkflowRun.objects.get()
    assert run.status == "success"
    assert set(TaskExecutionLog.objects.values_list("workflow_run", flat=True)) == {run.pk}
    # The run over, its four steps are ended: kept as the record, never run again.
    assert_flow_ended(flow)


@pytest.mark.django_db(transaction=True)
def test_a_rejected_post_is_not_published_and_the_author_hears_why(
    post, author, reviewer, clock, settings
):
    flow = start_content_approval(post, user=author)
    passes()
    approval = Approval.objects.get(task=flow.review)
    services.reject(approval, user=reviewer, comment="Wrong price in the second line")
    passes()
    clock.move_to(PUBLISH_AT + dt.timedelta(hours=1))
    passes()

    assert published_lines(settings) == []
    post.refresh_from_db()
    assert post.status == PostStatus.REJECTED
    assert post.review_comment == "Wrong price in the second line"
    publish_log = TaskExecutionLog.objects.get(task=flow.publish)
    assert publish_log.status == RunStatus.FAILED
    assert "was rejected by reviewer: Wrong price" in publish_log.error_message
    [report_mail] = [m for m in mail.outbox if m.to == ["author@example.com"]]
    assert report_mail.subject == "Post “Summer launch”: rejected"
    assert "Wrong price in the second line" in report_mail.body
    assert WorkflowRun.objects.get().status == "failed"

    assert_flow_ended(flow)

    # Fixed and sent again: a new flow for the same post, whose steps are open until it ends.
    Post.objects.filter(pk=post.pk).update(text="Our summer range is here, at the right price.")
    again = start_content_approval(post, user=author)
    passes()
    assert status(post) == PostStatus.IN_REVIEW
    assert Approval.objects.filter(task=again.review, status=ApprovalStatus.PENDING).exists()
    steps = [again.submit, again.review, again.publish, again.report]
    assert not ScheduledTask.objects.filter(
        pk__in=[t.pk for t in steps], status=TaskStatus.CANCELLED
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_an_unreviewed_post_expires_and_is_not_published(post, author, clock, settings):
    flow = start_content_approval(post, user=author, expire_after_minutes=60)
    passes()
    clock.move_to(START + dt.timedelta(minutes=61))
    passes()
    assert Approval.objects.get(task=flow.review).status == ApprovalStatus.EXPIRED
    assert status(post) == PostStatus.REJECTED
    assert "expired unreviewed" in TaskExecutionLog.objects.get(task=flow.publish).error_message
    assert published_lines(settings) == []
    assert_flow_ended(flow)


@pytest.mark.django_db(transaction=True)
def test_a_flow_whose_first_step_fails_ends_its_steps_too(post, author, clock):
    flow = start_content_approval(post, user=author)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHED)  # no longer a draft
    passes()
    run = WorkflowRun.objects.get()
    assert run.status == "failed" and run.finished_at is not None
    assert not Approval.objects.filter(task=flow.review).exists()
    assert_flow_ended(flow)


def test_only_a_draft_goes_to_review_and_only_marketing_users_send_it(post, author, make_user):
    with pytest.raises(PermissionDenied):
        start_content_approval(post, user=make_user("scheduler_app.SA_SCHEDULER"))
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHED)
    with pytest.raises(ValidationError) as caught:
        start_content_approval(post, user=author)
    assert "only a draft or a rejected post" in caught.value.message_dict["post"][0]


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_sends_a_draft_for_review_and_links_its_request(
    client, post, author, reviewer, clock
):
    client.force_login(author)
    html = client.get("/marketing/").content.decode()
    assert "Send for review" in html and "Summer launch" in html

    response = client.post(f"/marketing/posts/{post.pk}/review/")
    assert response.status_code == 302
    passes()
    approval = Approval.objects.get()
    html = client.get("/marketing/").content.decode()
    assert f"/scheduler/approvals/{approval.pk}/" in html

    again = client.post(f"/marketing/posts/{post.pk}/review/", follow=True)
    assert "only a draft or a rejected post" in again.content.decode()
    assert Approval.objects.count() == 1

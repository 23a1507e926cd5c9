"""The marketing module: posts through channel adapters, campaigns, A/B tests, its pages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone

from project.marketing import sending
from project.marketing.models import (
    ABRecipient,
    ABTest,
    Campaign,
    CampaignDelivery,
    CampaignReport,
    Channel,
    ChannelKind,
    Post,
    PostStatus,
    Subscriber,
)
from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.registry import registry
from tests.test_http_task import Handler, allow_loopback, loopback_server, server  # noqa: F401

MARKETER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_MARKETING")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def inline(settings, tmp_path):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline", "RETRY_JITTER": 0}
    settings.MARKETING_OUTBOX_DIR = str(tmp_path / "outbox")
    settings.MARKETING_BASE_URL = "https://shop.example"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def marketer(make_user):
    return make_user(*MARKETER, username="marketer", email="marketer@example.com")


@pytest.fixture
def file_channel(db):
    return Channel.objects.create(
        name="Mastodon (demo)", kind=ChannelKind.FILE, target="social.jsonl"
    )


def make_post(channel, status=PostStatus.APPROVED, **fields) -> Post:
    fields.setdefault("title", "Spring sale")
    fields.setdefault("text", "Everything 20% off this week.")
    return Post.objects.create(channel=channel, status=status, **fields)


def schedule(user, task_type: str, config: dict, **kwargs) -> ScheduledTask:
    kwargs.setdefault("schedule_type", "one_time")
    if kwargs["schedule_type"] == "one_time":
        kwargs.setdefault("run_at", timezone.now() + dt.timedelta(minutes=5))
    return services.schedule(
        user=user, module="marketing", task_type=task_type, config=config, **kwargs
    )


def run_due(task: ScheduledTask) -> TaskExecutionLog:
    past = timezone.now() - dt.timedelta(seconds=1)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)
    run_pass(PassOptions())
    return TaskExecutionLog.objects.filter(task=task).order_by("-pk").first()


def test_provider_offers_its_task_types_and_permissions(db):
    provider = registry.get("marketing")
    assert set(provider.task_types) >= {
        "publish_post",
        "email_campaign",
        "ab_send_variants",
        "ab_pick_winner",
        "content_report",
    }
    codenames = set(
        Permission.objects.filter(content_type__app_label="scheduler_app").values_list(
            "codename", flat=True
        )
    )
    assert {"SA_MARKETING", "SA_MARKETING_ADMIN"} <= codenames


# --- publishing --------------------------------------------------------------------


def test_publishing_writes_the_post_through_the_file_adapter_once(
    marketer, file_channel, settings, clock
):
    post = make_post(file_channel)
    task = schedule(marketer, "publish_post", {"post": post.pk})

    log = run_due(task)

    assert log.status == RunStatus.SUCCESS, log.error_message
    lines = (Path(settings.MARKETING_OUTBOX_DIR) / "social.jsonl").read_text().splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["Spring sale"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.published_at == NOW
    assert post.published_ref.startswith("social.jsonl@")


def test_a_post_is_published_once_even_when_scheduled_twice(marketer, file_channel, settings):
    post = make_post(file_channel)
    first = schedule(marketer, "publish_post", {"post": post.pk})
    second = schedule(marketer, "publish_post", {"post": post.pk}, name="again")
    run_due(first)
    log = run_due(second)
    assert log.status == RunStatus.SUCCESS
    lines = (Path(settings.MARKETING_OUTBOX_DIR) / "social.jsonl").read_text().splitlines()
    assert len(lines) == 1


@pytest.mark.parametrize("status", [PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.REJECTED])
def test_a_post_that_is_not_approved_is_not_published_and_not_retried(
    marketer, file_channel, settings, status
):
    post = make_post(file_channel, status=status)
    task = schedule(marketer, "publish_post", {"post": post.pk})
    log = run_due(task)
    assert log.status == RunStatus.FAILED
    assert "only approved posts are published" in log.error_message
    task.refresh_from_db()
    assert task.status == "failed"  # not retried: waiting cannot approve it
    assert not (Path(settings.MARKETING_OUTBOX_DIR) / "social.jsonl").exists()


def test_publishing_waits_for_the_posts_time(marketer, file_channel, clock):
    post = make_post(file_channel, publish_at=NOW + dt.timedelta(hours=3))
    task = schedule(marketer, "publish_post", {"post": post.pk})
    log = run_due(task)
    assert log.status == RunStatus.SKIPPED
    task.refresh_from_db()
    assert task.next_run == NOW + dt.timedelta(hours=3)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    clock.move_to(NOW + dt.timedelta(hours=3, seconds=1))
    run_pass(PassOptions())
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED


def test_the_console_adapter_prints_the_post(marketer, db, capsys):
    channel = Channel.objects.create(name="Console", kind=ChannelKind.CONSOLE)
    post = make_post(channel, title="Hello", text="World")
    from project.marketing.adapters import adapter_for

    assert adapter_for(channel).publish(channel, post) == "console"
    assert "[Console] Hello\nWorld" in capsys.readouterr().out


def test_the_http_adapter_posts_json_with_the_token_through_the_guard(marketer, server, db):  # noqa: F811
    channel = Channel.objects.create(
        name="Network", kind=ChannelKind.HTTP, target=f"{server}/posts", auth_token="tok-123456"
    )
    post = make_post(channel)
    task = schedule(marketer, "publish_post", {"post": post.pk})
    log = run_due(task)
    assert log.status == RunStatus.SUCCESS, log.error_message
    [seen] = Handler.seen
    assert seen["method"] == "POST" and seen["path"] == "/posts"
    assert json.loads(seen["body"])["title"] == "Spring sale"
    assert seen["headers"]["Authorization"] == "Bearer tok-123456"
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.published_ref == "HTTP 200"


def test_the_http_adapter_refuses_a_loopback_endpoint_by_default(marketer, loopback_server, db):  # noqa: F811
    channel = Channel.objects.create(
        name="Network", kind=ChannelKind.HTTP, target=f"{loopback_server}/posts"
    )
    post = make_post(channel)
    log = run_due(schedule(marketer, "publish_post", {"post": post.pk}))
    assert log.status == RunStatus.FAILED and "Refused" in log.error_message
    assert Handler.seen == []
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and post.last_error


@pytest.mark.parametrize(
    ("kind", "target", "field"),
    [
        (ChannelKind.FILE, "../etc/passwd", "target"),
        (ChannelKind.FILE, "", "target"),
        (ChannelKind.HTTP, "ftp://example.com", "target"),
    ],
)
def test_a_bad_channel_target_is_a_field_error(db, kind, target, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        Channel(name="x", kind=kind, target=target).full_clean()
    assert field in caught.value.message_dict


# --- campaigns ---------------------------------------------------------------------


@pytest.fixture
def subscribers(db):
    people = [
        Subscriber.objects.create(email=f"person{i}@example.com", name=f"Person {i}")
        for i in range(6)
    ]
    Subscriber.objects.create(email="gone@example.com", subscribed=False)
    return people


def test_a_campaign_is_sent_in_batches_with_a_report_per_run_and_never_twice(
    marketer, subscribers, clock
):
    campaign = Campaign.objects.create(name="June", subject="Hi {name}", body="Dear {name}, …")
    task = schedule(
        marketer,
        "email_campaign",
        {"campaign": campaign.pk, "batch_size": 2, "max_per_run": 4},
        schedule_type="recurring",
        interval="1 hours",
    )

    first = run_due(task)
    clock.shift(dt.timedelta(hours=1))  # one run per occurrence: the next one is an hour on
    second = run_due(task)
    clock.shift(dt.timedelta(hours=1))
    third = run_due(task)

    assert [log.status for log in (first, second, third)] == ["success"] * 3
    assert (first.result["data"]["sent"], first.result["data"]["batches"]) == (4, 2)
    assert first.result["data"]["left"] == 2
    assert second.result["data"]["sent"] == 2 and second.result["data"]["already_sent"] == 4
    assert third.result["data"]["sent"] == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in subscribers)
    assert mail.outbox[0].subject == "Hi Person 0" and mail.outbox[0].body.startswith(
        "Dear Person 0"
    )
    assert list(CampaignReport.objects.order_by("pk").values_list("sent", flat=True)) == [4, 2, 0]


def test_a_campaign_run_reports_its_progress_on_the_run(marketer, subscribers, clock):
    campaign = Campaign.objects.create(name="June", subject="Hi", body="…")
    task = schedule(
        marketer, "email_campaign", {"campaign": campaign.pk, "batch_size": 4, "max_per_run": 100}
    )

    log = run_due(task)

    assert log.status == RunStatus.SUCCESS, log.error_message
    # The body's last report (6 of 6 after the second batch) is on the run's row.
    assert (log.progress_done, log.progress_total) == (6, 6)
    assert log.progress_message == "June"
    assert log.progress_at == NOW


def test_a_refused_address_fails_alone_and_is_retried_next_run(marketer, subscribers, mail_backend):
    mail_backend("tests.marketing_mail.BouncingBackend")
    Subscriber.objects.create(email="bounce@example.com", name="B")
    campaign = Campaign.objects.create(name="June", subject="Hi", body="…")

    report = sending.send_campaign(campaign, batch_size=3, limit=100)

    assert (report.sent, report.failed, report.batches) == (6, 1, 3)
    assert report.errors == [
        "bounce@example.com: SMTPRecipientsRefused: "
        + report.errors[0].split("SMTPRecipientsRefused: ")[1]
    ]
    failed = CampaignDelivery.objects.get(subscriber__email="bounce@example.com")
    assert failed.sent_at is None and "SMTPRecipientsRefused" in failed.error
    again = sending.send_campaign(campaign, batch_size=3, limit=100)
    assert (again.sent, again.failed, again.already_sent) == (0, 1, 6)


def test_a_campaign_reports_progress_per_batch(subscribers):
    campaign = Campaign.objects.create(name="June", subject="Hi", body="…")
    calls = []
    sending.send_campaign(
        campaign,
        batch_size=4,
        limit=100,
        progress=lambda done, total, msg: calls.append((done, total)),
    )
    assert calls == [(4, 6), (6, 6)]


# --- A/B tests -----------------------------------------------------------------------


@pytest.fixture
def ab_test(db):
    for i in range(10):
        Subscriber.objects.create(email=f"ab{i}@example.com", name=f"AB {i}")
    return ABTest.objects.create(
        name="Subject test",
        subject_a="Sale!",
        body_a="A: {link}",
        subject_b="Last chance, {name}",
        body_b="B: {link}",
        landing_url="https://shop.example/sale",
        test_share=40,
        split_a=50,
        decide_after_hours=24,
    )


def test_the_split_sends_each_variant_to_its_share(ab_test):
    ids_a, ids_b = sending.split_audience(ab_test, range(1, 101))
    assert (len(ids_a), len(ids_b)) == (20, 20) and not set(ids_a) & set(ids_b)
    assert sending.split_audience(ab_test, range(1, 101)) == (ids_a, ids_b)  # stable
    ab_test.split_a = 1  # 1% of 40 rounds to none: each variant still reaches someone
    ids_a, ids_b = sending.split_audience(ab_test, range(1, 101))
    assert (len(ids_a), len(ids_b)) == (1, 39)


def test_an_ab_test_sends_variants_then_the_winner_goes_to_the_rest(
    client, marketer, ab_test, clock
):
    send = schedule(marketer, "ab_send_variants", {"test": ab_test.pk, "batch_size": 3})
    pick = schedule(marketer, "ab_pick_winner", {"test": ab_test.pk, "batch_size": 3})

    assert run_due(send).status == RunStatus.SUCCESS
    ab_test.refresh_from_db()
    assert ab_test.variants_sent_at == NOW
    subjects = {m.subject for m in mail.outbox}
    assert "Sale!" in subjects and subjects - {"Sale!"} <= {
        f"Last chance, AB {i}" for i in range(10)
    }
    by_variant = {v: ABRecipient.objects.filter(variant=v, in_test=True).count() for v in "ab"}
    assert by_variant == {"a": 2, "b": 2} and len(mail.outbox) == 4
    variants_log = TaskExecutionLog.objects.filter(task=send).order_by("-pk").first()
    assert (variants_log.progress_done, variants_log.progress_total) == (4, 4)
    assert variants_log.progress_message == "Subject test: variants"

    # Two B readers click (one twice); one A reader clicks.
    links = {m.to[0]: m.body.split(": ", 1)[1] for m in mail.outbox}
    b_mails = [m for m in mail.outbox if m.body.startswith("B:")]
    a_mails = [m for m in mail.outbox if m.body.startswith("A:")]
    for message in [*b_mails, b_mails[0], a_mails[0]]:
        path = links[message.to[0]].removeprefix("https://shop.example")
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == ab_test.landing_url

    log = run_due(pick)  # too early: waits until the decision time
    assert log.status == RunStatus.SKIPPED
    pick.refresh_from_db()
    assert pick.next_run == NOW + dt.timedelta(hours=24)

    clock.move_to(NOW + dt.timedelta(hours=24, seconds=1))
    run_pass(PassOptions())
    log = TaskExecutionLog.objects.filter(task=pick).order_by("-pk").first()
    assert log.status == RunStatus.SUCCESS, log.error_message
    ab_test.refresh_from_db()
    assert ab_test.winner == "b"
    assert log.result["data"]["scores"] == {
        "a": {"sent": 2, "clicks": 1},
        "b": {"sent": 2, "clicks": 2},
    }
    rest = mail.outbox[4:]
    assert len(rest) == 6 and all(m.body.startswith("B:") for m in rest)
    assert (log.progress_done, log.progress_total) == (6, 6)
    assert log.progress_message == "Subject test: winner"
    assert len({m.to[0] for m in mail.outbox}) == 10  # nobody got two mails


def test_a_tie_goes_to_variant_a(ab_test):
    sending.send_variants(ab_test, batch_size=10)
    assert sending.pick_winner(ab_test, NOW) == "a"


def test_picking_a_winner_before_the_variants_went_out_fails_clearly(marketer, ab_test):
    log = run_due(schedule(marketer, "ab_pick_winner", {"test": ab_test.pk, "batch_size": 3}))
    assert log.status == RunStatus.FAILED and "were not sent yet" in log.error_message


def test_a_forged_click_link_is_a_404_and_counts_nothing(client, ab_test):
    sending.send_variants(ab_test, batch_size=10)
    assert client.get("/marketing/ab/forged-token/").status_code == 404
    assert client.get("/marketing/ab/" + "x" * 300 + "/").status_code == 404
    assert not ABRecipient.objects.filter(clicked_at__isnull=False).exists()


# --- report, pages, demo -----------------------------------------------------------


def test_the_report_tells_the_owner_what_was_published_and_mailed(marketer, file_channel):
    post = make_post(file_channel)
    run_due(schedule(marketer, "publish_post", {"post": post.pk}))
    log = run_due(schedule(marketer, "content_report", {"days": 7, "channels": ["email"]}))
    assert log.status == RunStatus.SUCCESS, log.error_message
    assert log.result["data"]["published"] == 1
    [message] = [m for m in mail.outbox if m.subject == "Marketing report"]
    assert message.to == ["marketer@example.com"] and "Spring sale" in message.body


def test_the_schedules_page_and_the_dashboard_are_for_marketing_users(
    client, marketer, make_user, file_channel
):
    make_post(file_channel, status=PostStatus.IN_REVIEW, title="Needs a look")
    client.force_login(marketer)
    page = client.get("/marketing/schedules/")
    assert page.status_code == 200 and "Schedule: Publish a social post" in page.content.decode()
    dashboard = client.get("/marketing/")
    html = dashboard.content.decode()
    assert dashboard.status_code == 200 and "Needs a look" in html and "Marketing dashboard" in html
    client.force_login(make_user("scheduler_app.SA_SCHEDULER"))
    assert client.get("/marketing/").status_code == 403
    assert client.get("/marketing/schedules/").status_code == 403


def test_the_dashboard_takes_a_constant_number_of_queries(
    client, marketer, file_channel, django_assert_max_num_queries, ab_test
):
    for i in range(5):
        make_post(file_channel, title=f"Post {i}", status=PostStatus.IN_REVIEW)
    client.force_login(marketer)
    client.get("/marketing/")
    with django_assert_max_num_queries(30):
        assert client.get("/marketing/").status_code == 200


def test_the_demo_seeds_marketing_once(db):
    from project.marketing import demo

    _users, tasks = demo.seed()
    assert {t.module_id for t in tasks} == {"marketing", "workflow"}  # with a review flow
    assert Post.objects.get(title="Behind the scenes").review_step is not None
    from scheduler_app.models import InboundHook

    hook = InboundHook.objects.get(event="shop.product.launched")
    assert hook.secret and ScheduledTask.objects.filter(event_name=hook.event).exists()
    assert Post.objects.exists() and Subscriber.objects.exists()
    _users, again = demo.seed()
    assert again == []


def test_the_channel_admin_never_shows_the_token_and_keeps_it_when_left_empty(
    client, make_user, db
):
    channel = Channel.objects.create(
        name="Net", kind=ChannelKind.HTTP, target="https://example.com/p", auth_token="tok-secret-1"
    )
    client.force_login(make_user(is_superuser=True, is_staff=True))
    url = f"/admin/marketing/channel/{channel.pk}/change/"
    assert "tok-secret-1" not in client.get(url).content.decode()
    assert "tok-secret-1" not in client.get("/admin/marketing/channel/").content.decode()
    form = {"name": "Net", "kind": "http", "target": "https://example.com/q", "enabled": "on"}
    assert client.post(url, {**form, "auth_token": ""}).status_code == 302
    channel.refresh_from_db()
    assert (channel.target, channel.auth_token) == ("https://example.com/q", "tok-secret-1")
    assert client.post(url, {**form, "auth_token": "tok-new-2"}).status_code == 302
    channel.refresh_from_db()
    assert channel.auth_token == "tok-new-2"
    client.post(url, {**form, "clear_token": "on"})
    channel.refresh_from_db()
    assert channel.auth_token == ""


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_from_the_shop_starts_the_launch_campaign(client, marketer, subscribers):
    from scheduler_app.services import inbound_hooks

    hook, secret = inbound_hooks.create_hook(user=None, event="shop.product.launched")
    campaign = Campaign.objects.create(name="Launch", subject="Live, {name}", body="…")
    schedule(
        marketer,
        "email_campaign",
        {"campaign": campaign.pk, "batch_size": 10, "max_per_run": 100},
        schedule_type="event",
        event=hook.event,
    )
    body = json.dumps({"product": "sku-1"}).encode()
    header = inbound_hooks.sign(secret, body, timestamp=int(timezone.now().timestamp()))
    response = client.post(
        "/scheduler/hooks/shop.product.launched/",
        data=body,
        content_type="application/json",
        HTTP_X_SCHEDULER_SIGNATURE=header,
    )
    assert response.status_code == 202
    run_pass(PassOptions())
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in subscribers)
    assert CampaignReport.objects.get().sent == 6

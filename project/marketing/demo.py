"""Marketing demo data: a marketer and a reviewer, channels, posts, subscribers, a campaign,
an A/B test and marketing schedules. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from project.marketing.models import (
    ABTest,
    Campaign,
    Channel,
    ChannelKind,
    Post,
    PostStatus,
    Subscriber,
)
from project.marketing.workflow import start_content_approval
from project.reports.demo import DemoUser, seed_users
from scheduler_app import services
from scheduler_app.models import InboundHook, ScheduledTask
from scheduler_app.services import inbound_hooks

MODULE_ID = "marketing"
#: The inbound webhook's event of the demo: the shop says a product went live.
LAUNCH_EVENT = "shop.product.launched"
MARKETING_DATA = tuple(
    f"marketing.{action}_{model}"
    for model in ("post", "channel", "campaign", "subscriber", "abtest")
    for action in ("view", "add", "change")
)

USERS = [
    DemoUser(
        "marketer",
        "demo",
        "writes posts, sends them for review, schedules marketing tasks",
        perms=(
            "scheduler_app.SA_SCHEDULER",
            "scheduler_app.SA_MARKETING",
            *MARKETING_DATA,
            "marketing.view_campaignreport",
        ),
    ),
    DemoUser(
        "marketing_admin",
        "demo",
        "reviews posts, administers all marketing tasks",
        perms=("scheduler_app.SA_MARKETING_ADMIN", *MARKETING_DATA),
    ),
]


def seed_data(users: dict, now: dt.datetime) -> dict[str, object]:
    console, _ = Channel.objects.get_or_create(
        name="Console (demo)", defaults={"kind": ChannelKind.CONSOLE}
    )
    social, _ = Channel.objects.get_or_create(
        name="Social feed (file)", defaults={"kind": ChannelKind.FILE, "target": "social.jsonl"}
    )
    launch, _ = Post.objects.get_or_create(
        title="Product launch",
        defaults={
            "text": "Our new scheduler ships today. Try it!",
            "channel": social,
            "author": users["marketer"],
            "status": PostStatus.APPROVED,
            "publish_at": now + dt.timedelta(hours=2),
        },
    )
    Post.objects.get_or_create(
        title="Behind the scenes",
        defaults={
            "text": "How we test daylight-saving changes.",
            "channel": console,
            "author": users["marketer"],
            "status": PostStatus.DRAFT,
            "publish_at": now + dt.timedelta(days=1),
        },
    )
    Post.objects.get_or_create(
        title="Customer story",
        defaults={
            "text": "How a bakery schedules its orders.",
            "channel": social,
            "author": users["marketer"],
            "status": PostStatus.DRAFT,
        },
    )
    for i, name in enumerate(("Ada", "Grace", "Edsger", "Barbara", "Donald", "Frances")):
        Subscriber.objects.get_or_create(
            email=f"{name.lower()}@example.com", defaults={"name": name, "subscribed": i != 5}
        )
    campaign, _ = Campaign.objects.get_or_create(
        name="Monthly newsletter",
        defaults={
            "subject": "News for {name}",
            "body": "Hello {name},\n\nhere is what happened this month.",
            "created_by": users["marketer"],
        },
    )
    ab_test, _ = ABTest.objects.get_or_create(
        name="Launch mail subject",
        defaults={
            "subject_a": "It's here",
            "body_a": "Our scheduler is out: {link}",
            "subject_b": "{name}, your tasks will thank you",
            "body_b": "Read why: {link}",
            "landing_url": "https://example.com/launch",
            "test_share": 50,
            "split_a": 50,
            "decide_after_hours": 24,
        },
    )
    launch_mail, _ = Campaign.objects.get_or_create(
        name="Launch announcement",
        defaults={
            "subject": "{name}, it is live",
            "body": "Hello {name},\n\nthe shop has just put it online.",
            "created_by": users["marketer"],
        },
    )
    # The shop calls this webhook when a product goes live; its secret is made here and
    # shown by `manage.py scheduler_hook_secret shop.product.launched --rotate`.
    if not InboundHook.objects.filter(event=LAUNCH_EVENT).exists():
        inbound_hooks.create_hook(
            user=None, event=LAUNCH_EVENT, description="The shop: a product went live (demo)."
        )
    return {"launch": launch, "campaign": campaign, "ab_test": ab_test, "launch_mail": launch_mail}


def task_specs(data: dict[str, object], now: dt.datetime) -> list[tuple[str, str, dict, dict]]:
    """(name, task type, schedule, config) of the demo schedules; owned by "marketer"."""
    launch = data["launch"]
    return [
        (
            "Publish “Product launch”",
            "publish_post",
            {"schedule_type": "one_time", "run_at": launch.publish_at},  # type: ignore[attr-defined]
            {"post": launch.pk},  # type: ignore[attr-defined]
        ),
        (
            "Monthly newsletter",
            "email_campaign",
            {"schedule_type": "cron", "cron": "0 9 1 * *", "timezone": "Europe/Berlin"},
            {"campaign": data["campaign"].pk, "batch_size": 100, "max_per_run": 10000},  # type: ignore[attr-defined]
        ),
        (
            "Launch mail: send variants",
            "ab_send_variants",
            {"schedule_type": "one_time", "run_at": now + dt.timedelta(days=1)},
            {"test": data["ab_test"].pk, "batch_size": 100},  # type: ignore[attr-defined]
        ),
        (
            "Launch mail: pick the winner",
            "ab_pick_winner",
            {"schedule_type": "one_time", "run_at": now + dt.timedelta(days=2)},
            {"test": data["ab_test"].pk, "batch_size": 100},  # type: ignore[attr-defined]
        ),
        (
            "Launch announcement on shop.product.launched",
            "email_campaign",
            {"schedule_type": "event", "event": LAUNCH_EVENT},
            {"campaign": data["launch_mail"].pk, "batch_size": 100, "max_per_run": 10000},  # type: ignore[attr-defined]
        ),
        (
            "Weekly marketing report",
            "content_report",
            {"schedule_type": "cron", "cron": "0 8 * * 1", "timezone": "Europe/Berlin"},
            {"days": 7, "channels": ["in_app"]},
        ),
    ]


def seed_tasks(users: dict, data: dict[str, object], now: dt.datetime) -> list[ScheduledTask]:
    created = []
    for name, task_type, schedule, config in task_specs(data, now):
        if ScheduledTask.objects.filter(module_id=MODULE_ID, name=name).exists():
            continue
        created.append(
            services.schedule(
                user=users["marketer"],
                module=MODULE_ID,
                task_type=task_type,
                name=name,
                config=config,
                tags=["demo"],
                now=now,
                **schedule,
            )
        )
    return created


def seed_review(users: dict, now: dt.datetime) -> list[ScheduledTask]:
    """Send "Behind the scenes" for review (its approval waits for marketing_admin)."""
    post = Post.objects.filter(title="Behind the scenes", status=PostStatus.DRAFT).first()
    if post is None or post.review_step_id is not None:
        return []
    flow = start_content_approval(post, user=users["marketer"], now=now)
    return [flow.submit, flow.review, flow.publish, flow.report]


def seed(now: dt.datetime | None = None) -> tuple[dict, list[ScheduledTask]]:
    """Create the marketing demo users, data and schedules that are missing."""
    now = now or timezone.now()
    with transaction.atomic():
        users = seed_users(USERS)
        data = seed_data(users, now)
        tasks = seed_tasks(users, data, now)
        tasks += seed_review(users, now)
    return users, tasks

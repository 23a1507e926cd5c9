"""Batched e-mail sends for campaigns and A/B tests through Django's mail.

One SMTP connection per run; each message is sent on its own so one refused
address fails alone; deliveries are written per batch, so a run that dies
midway resends nothing that was recorded, and the next run picks up the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import mail, signing
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from project.marketing.models import (
    ABRecipient,
    ABTest,
    Campaign,
    CampaignDelivery,
    CampaignReport,
    Subscriber,
    Variant,
)

#: Errors kept in a report (the counts are complete).
ERRORS_KEPT = 20
CLICK_SALT = "marketing.ab.click"

Progress = Callable[[int, int | None, str], Any] | None


def open_mailer() -> Any:
    """A connection of the default mailer (Django 6.1's mailers; get_connection before)."""
    if hasattr(mail, "mailers"):
        return mail.mailers.default
    return mail.get_connection()


def fill(template: str, subscriber: Subscriber, link: str = "") -> str:
    """``{name}`` and ``{link}`` filled in; nothing else is read (no str.format on user text)."""
    return template.replace("{name}", subscriber.name or subscriber.email).replace("{link}", link)


def click_token(recipient: ABRecipient) -> str:
    return signing.dumps(recipient.pk, salt=CLICK_SALT, compress=True)


def click_url(recipient: ABRecipient) -> str:
    base = str(getattr(settings, "MARKETING_BASE_URL", "http://localhost:8000")).rstrip("/")
    return base + reverse("marketing:ab_click", args=[click_token(recipient)])


@dataclass
class SendReport:
    """Counts of one run, and the first errors."""

    sent: int = 0
    failed: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, address: str, exc: Exception) -> str:
        text = f"{type(exc).__name__}: {exc}"[:250]
        self.failed += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(f"{address}: {text}")
        return text


def send_batches(
    items: Sequence[Any],
    make: Callable[[Any], EmailMessage],
    record: Callable[[list[tuple[Any, str]]], None],
    *,
    batch_size: int,
    progress: Progress = None,
    label: str = "",
) -> SendReport:
    """Send a message for each item; ``record`` gets each batch's ``(item, error or "")``."""
    report = SendReport()
    connection = open_mailer()
    total = len(items)
    with connection:
        for start in range(0, total, batch_size):
            outcome: list[tuple[Any, str]] = []
            for item in items[start : start + batch_size]:
                message = make(item)
                try:
                    connection.send_messages([message])
                except Exception as exc:  # noqa: BLE001 - a refused address fails alone
                    outcome.append((item, report.error(message.to[0], exc)))
                else:
                    report.sent += 1
                    outcome.append((item, ""))
            record(outcome)
            report.batches += 1
            if progress is not None:
                progress(min(start + batch_size, total), total, label)
    return report


# --- campaigns --------------------------------------------------------------------


def send_campaign(
    campaign: Campaign,
    *,
    batch_size: int,
    limit: int,
    task_id: int | None = None,
    progress: Progress = None,
) -> CampaignReport:
    """Mail the campaign to subscribed subscribers it has not reached; at most ``limit``."""
    started = timezone.now()
    done = CampaignDelivery.objects.filter(campaign=campaign, sent_at__isnull=False)
    already = done.count()
    todo = Subscriber.objects.filter(subscribed=True).exclude(pk__in=done.values("subscriber_id"))
    waiting = todo.count()
    subscribers = list(todo.order_by("pk")[:limit])
    sender = campaign.from_email or settings.DEFAULT_FROM_EMAIL

    def make(subscriber: Subscriber) -> EmailMessage:
        return EmailMessage(
            subject=fill(campaign.subject, subscriber)[:200],
            body=fill(campaign.body, subscriber),
            from_email=sender,
            to=[subscriber.email],
        )

    def record(outcome: list[tuple[Subscriber, str]]) -> None:
        now = timezone.now()
        CampaignDelivery.objects.bulk_create(
            [
                CampaignDelivery(
                    campaign=campaign,
                    subscriber=subscriber,
                    sent_at=None if error else now,
                    error=error,
                )
                for subscriber, error in outcome
            ],
            update_conflicts=True,
            unique_fields=["campaign", "subscriber"],
            update_fields=["sent_at", "error"],
        )

    result = send_batches(
        subscribers, make, record, batch_size=batch_size, progress=progress, label=campaign.name
    )
    return CampaignReport.objects.create(
        campaign=campaign,
        task_id=task_id,
        started_at=started,
        finished_at=timezone.now(),
        sent=result.sent,
        failed=result.failed,
        already_sent=already,
        left=waiting - result.sent,
        batches=result.batches,
        errors=result.errors,
    )


# --- A/B tests ------------------------------------------------------------------------


def _shuffle_key(test: ABTest, subscriber_pk: int) -> str:
    # A stable shuffle: the same test splits the same audience the same way on a rerun.
    return hashlib.sha256(f"{test.pk}:{subscriber_pk}".encode()).hexdigest()


def split_audience(test: ABTest, subscriber_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(ids for A, ids for B): ``test_share`` % of the audience, ``split_a`` % of it to A."""
    shuffled = sorted(subscriber_ids, key=lambda pk: _shuffle_key(test, pk))
    in_test = shuffled[: max(1, round(len(shuffled) * test.test_share / 100))] if shuffled else []
    to_a = round(len(in_test) * test.split_a / 100)
    if len(in_test) >= 2:
        to_a = min(max(to_a, 1), len(in_test) - 1)  # each variant reaches someone
    return in_test[:to_a], in_test[to_a:]


def _mail_recipients(
    test: ABTest, recipients: list[ABRecipient], batch_size: int, progress: Progress, label: str
) -> SendReport:
    sender = settings.DEFAULT_FROM_EMAIL

    def make(recipient: ABRecipient) -> EmailMessage:
        subject, body = test.variant(recipient.variant)
        subscriber = recipient.subscriber
        return EmailMessage(
            subject=fill(subject, subscriber)[:200],
            body=fill(body, subscriber, click_url(recipient)),
            from_email=sender,
            to=[subscriber.email],
        )

    def record(outcome: list[tuple[ABRecipient, str]]) -> None:
        sent = [recipient.pk for recipient, error in outcome if not error]
        ABRecipient.objects.filter(pk__in=sent).update(sent_at=timezone.now())

    return send_batches(
        recipients, make, record, batch_size=batch_size, progress=progress, label=label
    )


def send_variants(test: ABTest, *, batch_size: int, progress: Progress = None) -> SendReport:
    """Assign and mail the two variants to the test group (unsent ones only, on a rerun)."""
    audience = Subscriber.objects.filter(subscribed=True).values_list("pk", flat=True)
    if not test.recipients.filter(in_test=True).exists():
        ids_a, ids_b = split_audience(test, list(audience))
        ABRecipient.objects.bulk_create(
            [
                ABRecipient(test=test, subscriber_id=pk, variant=Variant.A, in_test=True)
                for pk in ids_a
            ]
            + [
                ABRecipient(test=test, subscriber_id=pk, variant=Variant.B, in_test=True)
                for pk in ids_b
            ]
        )
    unsent = list(
        test.recipients.filter(in_test=True, sent_at__isnull=True)
        .select_related("subscriber")
        .order_by("pk")
    )
    report = _mail_recipients(test, unsent, batch_size, progress, f"{test.name}: variants")
    if test.variants_sent_at is None and not report.failed:
        test.variants_sent_at = timezone.now()
        test.save(update_fields=["variants_sent_at"])
    return report


@dataclass(frozen=True)
class Score:
    variant: str
    sent: int
    clicks: int

    @property
    def rate(self) -> float:
        return self.clicks / self.sent if self.sent else 0.0


def scores(test: ABTest) -> list[Score]:
    group = test.recipients.filter(in_test=True, sent_at__isnull=False)
    return [
        Score(
            letter,
            group.filter(variant=letter).count(),
            group.filter(variant=letter, clicked_at__isnull=False).count(),
        )
        for letter in (Variant.A, Variant.B)
    ]


def pick_winner(test: ABTest, now: dt.datetime) -> str:
    """The variant with the higher click rate (A on a tie, the safer default); recorded."""
    found = scores(test)
    winner = Variant.B if found[1].rate > found[0].rate else Variant.A
    test.winner = winner
    test.decided_at = now
    test.save(update_fields=["winner", "decided_at"])
    return winner


def send_winner(test: ABTest, *, batch_size: int, progress: Progress = None) -> SendReport:
    """Mail the winning variant to every subscribed subscriber not in the test group."""
    known = test.recipients.values("subscriber_id")
    rest = Subscriber.objects.filter(subscribed=True).exclude(pk__in=known)
    ABRecipient.objects.bulk_create(
        [
            ABRecipient(test=test, subscriber_id=pk, variant=test.winner, in_test=False)
            for pk in rest.values_list("pk", flat=True)
        ]
    )
    unsent = list(
        test.recipients.filter(in_test=False, sent_at__isnull=True)
        .select_related("subscriber")
        .order_by("pk")
    )
    return _mail_recipients(test, unsent, batch_size, progress, f"{test.name}: winner")


def record_click(token: str, now: dt.datetime, max_age: int = 90 * 86400) -> ABRecipient | None:
    """The recipient a click link names, its first click recorded; None for a bad link."""
    try:
        pk = signing.loads(token, salt=CLICK_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    recipient = ABRecipient.objects.select_related("test").filter(pk=pk).first()
    if recipient is not None and recipient.clicked_at is None:
        ABRecipient.objects.filter(pk=recipient.pk, clicked_at__isnull=True).update(clicked_at=now)
    return recipient

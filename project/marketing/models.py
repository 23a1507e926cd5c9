"""Social posts and their channels, e-mail campaigns with a report per run, A/B tests."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The longest post text accepted (the strictest network's limit is shorter; the adapter cuts).
POST_TEXT_MAX = 5000
#: The longest e-mail body of a campaign or variant.
MAIL_BODY_MAX = 50_000


class ChannelKind(models.TextChoices):
    CONSOLE = "console", _("Console (prints the post)")
    FILE = "file", _("File (appends the post as a JSON line)")
    HTTP = "http", _("HTTP endpoint (POSTs the post as JSON)")


#: A file channel's target: one plain file name in the outbox (no path, no hidden file).
#: Matched whole: ``$`` would let a trailing newline through.
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", re.ASCII)


#: An HTTP channel's token: one word of visible ASCII. It is sent as a header line, so a
#: line break in it would add headers of its own.
TOKEN = re.compile(r"[\x21-\x7e]{1,500}", re.ASCII)


def is_token(value: object) -> bool:
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None


def is_file_name(value: object) -> bool:
    return isinstance(value, str) and FILE_NAME.fullmatch(value) is not None


class Channel(models.Model):
    """Where posts go: a social network account, reached through an adapter."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("adapter"), max_length=8, choices=ChannelKind.choices)
    # File: a file name in MARKETING_OUTBOX_DIR. HTTP: the endpoint's URL.
    target = models.CharField(
        _("target"),
        max_length=500,
        blank=True,
        help_text=_("File adapter: a file name (letters, digits, . _ -). HTTP adapter: the URL."),
    )
    # Sent as "Authorization: Bearer <token>" to the HTTP endpoint only; never shown whole.
    auth_token = models.CharField(_("access token"), max_length=500, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name"]  # noqa: RUF012 - Django compares Meta options with the migration

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.validators import URLValidator

        if self.kind == ChannelKind.FILE:
            if not is_file_name(self.target):
                raise ValidationError(
                    {
                        "target": _(
                            "Name a file: letters, digits, dots, dashes, underscores; at most 100."
                        )
                    },
                    code="invalid",
                )
        elif self.kind == ChannelKind.HTTP:
            try:
                URLValidator(schemes=["http", "https"])(self.target)
            except ValidationError:
                raise ValidationError(
                    {"target": _("Give the endpoint's http(s) URL.")}, code="invalid"
                ) from None
        if self.auth_token and self.kind != ChannelKind.HTTP:
            raise ValidationError({"auth_token": _("Only the HTTP adapter sends a token.")})
        if self.auth_token and not is_token(self.auth_token):
            raise ValidationError(
                {"auth_token": _("A token is one word: letters, digits and signs, no spaces.")},
                code="invalid",
            )


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")


class Post(models.Model):
    """A social post: written, reviewed, then published on its channel at ``publish_at``."""

    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), max_length=POST_TEXT_MAX)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="posts", verbose_name=_("channel")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="marketing_posts",
        verbose_name=_("author"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # What the channel answered (an id, a file line, an HTTP status), for the record.
    published_ref = models.CharField(_("channel reference"), max_length=200, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="marketing_reviewed_posts",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.CharField(_("review comment"), max_length=500, blank=True)
    # The approval step of the post's content-approval workflow (see workflow.py), if any.
    review_step = models.ForeignKey(
        "scheduler_app.ScheduledTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("review step"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-created_at", "-pk"]  # noqa: RUF012
        indexes = [models.Index(fields=["status", "publish_at"], name="mkt_post_due_idx")]  # noqa: RUF012

    def __str__(self) -> str:
        return self.title

    def _set(self, status: str, **fields: object) -> None:
        for name, value in fields.items():
            setattr(self, name, value)
        self.status = status
        self.save(update_fields=["status", "updated_at", *fields])

    def submit_for_review(self) -> None:
        self._set(PostStatus.IN_REVIEW)

    def approve(self, user: object, comment: str = "", when: dt.datetime | None = None) -> None:
        self._set(
            PostStatus.APPROVED,
            reviewed_by=user,
            reviewed_at=when or timezone.now(),
            review_comment=comment[:500],
        )

    def reject(self, user: object, comment: str = "", when: dt.datetime | None = None) -> None:
        self._set(
            PostStatus.REJECTED,
            reviewed_by=user,
            reviewed_at=when or timezone.now(),
            review_comment=comment[:500],
        )

    def mark_published(self, ref: str, when: dt.datetime) -> None:
        self._set(PostStatus.PUBLISHED, published_at=when, published_ref=ref[:200], last_error="")

    def mark_failed(self, error: str) -> None:
        self._set(PostStatus.FAILED, last_error=error[:500])


class Subscriber(models.Model):
    email = models.EmailField(_("e-mail"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    subscribed = models.BooleanField(_("subscribed"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return self.email


class Campaign(models.Model):
    """One e-mail to every subscriber; ``{name}`` in subject or body is the subscriber's name."""

    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), max_length=MAIL_BODY_MAX)
    from_email = models.EmailField(
        _("from"), blank=True, help_text=_("Empty: the site's DEFAULT_FROM_EMAIL.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="marketing_campaigns",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("e-mail campaign")
        verbose_name_plural = _("e-mail campaigns")
        ordering = ["-created_at", "-pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return self.name


class CampaignDelivery(models.Model):
    """One subscriber reached (or not yet: ``error``) by a campaign; never mailed twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("campaign delivery")
        verbose_name_plural = _("campaign deliveries")
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["campaign", "subscriber"], name="mkt_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.subscriber}"


class CampaignReport(models.Model):
    """What one run of a campaign task did (also in the run's result)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="reports", verbose_name=_("campaign")
    )
    task_id = models.BigIntegerField(_("scheduled task"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    sent = models.PositiveIntegerField(_("sent"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    already_sent = models.PositiveIntegerField(_("already sent before"), default=0)
    left = models.PositiveIntegerField(_("left for the next run"), default=0)
    batches = models.PositiveIntegerField(_("batches"), default=0)
    # The first errors, as "address: reason" (bounded).
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("campaign run report")
        verbose_name_plural = _("campaign run reports")
        ordering = ["-started_at", "-pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.campaign}: {self.sent} sent, {self.failed} failed"


class Variant(models.TextChoices):
    A = "a", _("Variant A")
    B = "b", _("Variant B")


class ABTest(models.Model):
    """Two variants of a mail to a share of the subscribers; the better one goes to the rest.

    ``{link}`` in a body is the tracked link to ``landing_url``: a click counts for the
    variant the subscriber got. ``{name}`` is the subscriber's name.
    """

    name = models.CharField(_("name"), max_length=200)
    subject_a = models.CharField(_("subject A"), max_length=200)
    body_a = models.TextField(_("body A"), max_length=MAIL_BODY_MAX)
    subject_b = models.CharField(_("subject B"), max_length=200)
    body_b = models.TextField(_("body B"), max_length=MAIL_BODY_MAX)
    landing_url = models.URLField(_("landing page"), max_length=500)
    test_share = models.PositiveSmallIntegerField(
        _("test share (%)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Share of the subscribers who get a variant; the rest get the winner."),
    )
    split_a = models.PositiveSmallIntegerField(
        _("split to A (%)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Share of the test group that gets variant A; the others get B."),
    )
    decide_after_hours = models.PositiveSmallIntegerField(
        _("decide after (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
    )
    variants_sent_at = models.DateTimeField(_("variants sent"), null=True, blank=True)
    winner = models.CharField(_("winner"), max_length=1, choices=Variant.choices, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("A/B test")
        verbose_name_plural = _("A/B tests")
        ordering = ["-created_at", "-pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return self.name

    def decide_at(self) -> dt.datetime | None:
        if self.variants_sent_at is None:
            return None
        return self.variants_sent_at + dt.timedelta(hours=self.decide_after_hours)

    def variant(self, letter: str) -> tuple[str, str]:
        """(subject, body) of variant ``letter``."""
        return (
            (self.subject_a, self.body_a) if letter == Variant.A else (self.subject_b, self.body_b)
        )


class ABRecipient(models.Model):
    """A subscriber's mail of an A/B test: which variant, whether in the test group, a click."""

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="recipients")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(_("variant"), max_length=1, choices=Variant.choices)
    in_test = models.BooleanField(_("in the test group"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)

    class Meta:
        verbose_name = _("A/B recipient")
        verbose_name_plural = _("A/B recipients")
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["test", "subscriber"], name="mkt_ab_once")
        ]

    def __str__(self) -> str:
        return f"{self.test}: {self.subscriber} ({self.variant})"

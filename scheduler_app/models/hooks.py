"""Inbound webhooks: a named event with its signing secret, the nonces seen, the delivery log."""

from __future__ import annotations

import datetime as dt

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

#: An event name that fits one URL path segment and ScheduledTask.event_name (120).
HOOK_EVENT_RE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$"
#: Characters of a secret shown in lists; the rest is masked.
SECRET_SHOWN = 4


class InboundHookQuerySet(models.QuerySet):
    def receiving(self) -> InboundHookQuerySet:
        """Hooks that accept deliveries (enabled)."""
        return self.filter(enabled=True)


class InboundHook(models.Model):
    """``POST /scheduler/hooks/<event>/`` signed with ``secret`` emits ``event``."""

    event = models.CharField(
        _("event"),
        max_length=120,
        unique=True,
        validators=[
            RegexValidator(
                HOOK_EVENT_RE,
                _(
                    "Use letters, digits, dots, colons, dashes and underscores (at most 120), "
                    "starting with a letter or digit."
                ),
            )
        ],
        help_text=_("The event emitted for each accepted delivery, and the last part of its URL."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Kept in the clear: verifying an HMAC needs the key itself (a digest cannot sign).
    # Never shown whole after it was made; see masked_secret.
    secret = models.CharField(_("secret"), max_length=128, blank=True, editable=False)
    # While a rotation overlaps, senders still signing with the old secret are accepted.
    previous_secret = models.CharField(
        _("previous secret"), max_length=128, blank=True, editable=False
    )
    previous_secret_until = models.DateTimeField(
        _("previous secret accepted until"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    rotated_at = models.DateTimeField(_("secret made"), null=True, blank=True, editable=False)

    objects = InboundHookQuerySet.as_manager()

    class Meta:
        verbose_name = _("inbound webhook")
        verbose_name_plural = _("inbound webhooks")
        ordering = ["event"]  # noqa: RUF012 - Django compares Meta options with the migration

    def __str__(self) -> str:
        return self.event

    @property
    def masked_secret(self) -> str:
        """The first characters of the secret and a mask, or an empty string."""
        return mask(self.secret)

    def secrets_accepted(self, now: dt.datetime) -> list[str]:
        """The current secret and, during a rotation's overlap, the previous one."""
        found = [self.secret] if self.secret else []
        until = self.previous_secret_until
        if self.previous_secret and until is not None and now < until:
            found.append(self.previous_secret)
        return found


def mask(secret: str) -> str:
    """``abcd••••••`` for a secret; empty for none."""
    return f"{secret[:SECRET_SHOWN]}{'•' * 8}" if secret else ""


class HookNonce(models.Model):
    """A signed message already accepted; the same one again within the window is a replay."""

    hook = models.ForeignKey(InboundHook, on_delete=models.CASCADE, related_name="nonces")
    # SHA-256 of the signed message (timestamp and body), whichever secret signed it.
    digest = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("webhook nonce")
        verbose_name_plural = _("webhook nonces")
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["hook", "digest"], name="sched_hook_nonce_unique")
        ]
        indexes = [models.Index(fields=["seen_at"], name="sched_hook_nonce_seen_idx")]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.digest[:12]}… at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class DeliveryOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    UNKNOWN_EVENT = "unknown_event", _("Unknown or disabled event")
    WRONG_METHOD = "wrong_method", _("Wrong method")
    TOO_LARGE = "too_large", _("Body too large")
    UNSIGNED = "unsigned", _("Unsigned")
    BAD_SIGNATURE = "bad_signature", _("Bad signature")
    STALE = "stale", _("Timestamp outside the window")
    REPLAYED = "replayed", _("Replayed")
    BAD_BODY = "bad_body", _("Body not a JSON object")


class HookDeliveryQuerySet(models.QuerySet):
    def older_than(self, cutoff: dt.datetime) -> HookDeliveryQuerySet:
        return self.filter(received_at__lt=cutoff)

    def refused(self) -> HookDeliveryQuerySet:
        return self.exclude(outcome=DeliveryOutcome.ACCEPTED)


class HookDelivery(models.Model):
    """One request to a hook URL and what became of it (kept for the log retention)."""

    hook = models.ForeignKey(
        InboundHook,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        verbose_name=_("webhook"),
    )
    # As asked in the URL (clipped), also for unknown events.
    event = models.CharField(_("event"), max_length=120)
    received_at = models.DateTimeField(_("received"), default=dj_timezone.now, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=DeliveryOutcome.choices)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    body_size = models.PositiveIntegerField(_("body size (bytes)"), default=0)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)

    objects = HookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-received_at", "-pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.event} {self.status_code} {self.outcome}"

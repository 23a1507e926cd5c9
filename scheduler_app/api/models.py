"""API tokens: per user, read-only or read-write; only a digest of the secret is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from scheduler_app.models.tokens import DigestToken


class TokenScope(models.TextChoices):
    READ = "read", _("Read only (GET)")
    WRITE = "write", _("Read and write")


class ApiToken(DigestToken):
    """A secret a script sends as ``Authorization: Token <secret>``; it acts as ``user``.

    The token never grants more than its user holds: every request is decided
    by the scheduler's policy for that user, and a read-only token may only read.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="scheduler_api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("What the token is for.")
    )
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.READ
    )

    class Meta(DigestToken.Meta):
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {self.scope})"

    @property
    def read_only(self) -> bool:
        return self.scope != TokenScope.WRITE

"""What every secret token of the app keeps: a digest of the secret, never the secret.

The calendar feed's links and the API's tokens are both made, found and touched here;
each keeps only its own rules (how a secret is drawn, who may revoke).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Self

from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

#: Secrets longer than this are refused unread (a real one is 43 characters).
MAX_SECRET_LENGTH = 200


def digest(secret: str) -> str:
    """The SHA-256 digest of ``secret``: what is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class DigestToken(models.Model):
    """A secret shown once; only its SHA-256 digest and first characters are stored.

    Concrete tokens belong to a ``user`` (a foreign key each declares with its own
    related name); the token acts for that user while both are active.
    """

    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The first characters of the secret, to tell tokens apart in lists.
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def create_for_secret(cls, secret: str, **fields: Any) -> Self:
        """Store a new token for ``secret``: its digest and first characters, never itself."""
        return cls._default_manager.create(digest=digest(secret), prefix=secret[:8], **fields)

    @classmethod
    def find_active(
        cls, secret: str, *, now: dt.datetime, touch_every: dt.timedelta
    ) -> Self | None:
        """The unrevoked token with this secret whose user is active, or None.

        Its use is recorded in ``last_used_at`` at most once per ``touch_every``, not on
        every request.
        """
        if not secret or len(secret) > MAX_SECRET_LENGTH:
            return None
        token = (
            cls._default_manager.filter(digest=digest(secret), revoked_at__isnull=True)
            .select_related("user")
            .first()
        )
        if token is None or not token.user.is_active:  # type: ignore[attr-defined]
            return None
        if token.last_used_at is None or now - token.last_used_at >= touch_every:
            cls._default_manager.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token

"""What every secret token of the app keeps: a digest of the secret, never the secret."""

from __future__ import annotations

from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _


class DigestToken(models.Model):
    """A secret shown once; only its SHA-256 digest and first characters are stored."""

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

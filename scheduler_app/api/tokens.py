"""Issue, look up and revoke API tokens (no REST framework here: the admin and command use it).

The secret is shown once, when it is made; only its SHA-256 digest is stored,
as with the calendar feed tokens.

Example::

    token, secret = tokens.issue(user, scope="read", name="uptime monitor")
    # curl -H "Authorization: Token $secret" .../api/scheduler/status/
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.api.models import ApiToken, TokenScope

#: ``last_used_at`` is written at most this often per token, not on every request.
TOUCH_EVERY = dt.timedelta(minutes=1)
SECRET_ALPHABET = string.ascii_letters + string.digits


def issue(user: Any, *, scope: str = TokenScope.READ, name: str = "") -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns it and the secret (shown once, never stored)."""
    if user is None or not getattr(user, "is_active", False):
        raise PermissionDenied(_("Tokens are made for active users only."))
    if scope not in TokenScope.values:
        raise ValidationError(
            {"scope": _("Choose one of: %(choices)s.") % {"choices": ", ".join(TokenScope.values)}}
        )
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError({"name": _("Keep the name under 100 characters.")})
    # Letters and digits only (256 bits): a secret or its prefix never starts with "-", which a
    # command line would read as an option.
    secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(43))
    return ApiToken.create_for_secret(secret, user=user, scope=scope, name=name), secret


def authenticate(secret: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The active token with this secret whose user is active, or None."""
    return ApiToken.find_active(secret, now=now or timezone.now(), touch_every=TOUCH_EVERY)


def revoke(queryset: QuerySet[ApiToken], *, user: Any) -> int:
    """Revoke the tokens in ``queryset``: one's own, or anyone's for a scheduler admin.

    ``user=None`` is the system (the management command). Returns how many were active.
    """
    if user is not None and not policy.is_scheduler_admin(user):
        queryset = queryset.filter(user=user)
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

"""Signed one-click links in approval e-mails: made for one person, expiring, used once.

A link carries the approval, the person it was sent to, the decision and a
nonce of the request, signed with Django's signing (salted, timestamped).
Opening it shows a confirmation page to the logged-in person it was sent to;
confirming decides through :func:`scheduler_app.services.approvals.approve`
or ``reject``, so the policy is checked again at that moment. A link is
single use because the decision closes the request: every later use (of
this link or another) finds it decided and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from scheduler_app import conf
from scheduler_app.models import Approval

SALT = "scheduler_app.approval-link"
DECISIONS = ("approve", "reject")
#: Characters a token may have (anything longer is refused before unsigning).
MAX_TOKEN = 500


@dataclass(frozen=True)
class LinkClaim:
    """What a valid link says: who may use it for which decision on which request."""

    approval_id: int
    user_id: Any
    decision: str


def make_token(approval: Approval, user: Any, decision: str) -> str:
    """The signed token of ``decision`` on ``approval`` for ``user``."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    return signing.dumps({"a": approval.pk, "u": user.pk, "d": decision}, salt=SALT)


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError({"token": ValidationError(message, code=code)})


def read_token(token: str, *, user: Any) -> tuple[LinkClaim, Approval]:
    """Check ``token`` for ``user``; return its claim and the approval it names.

    Raises:
        ValidationError: on ``token``: forged or altered (``bad_signature``),
            too old (``link_expired``) or naming no request (``unknown``).
        PermissionDenied: the link was sent to another person.
    """
    if not token or len(token) > MAX_TOKEN:
        raise _invalid(_("This link is not valid."), "bad_signature")
    try:
        data = signing.loads(token, salt=SALT, max_age=conf.get().APPROVAL_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise _invalid(
            _("This link has expired. Open the request in the application instead."),
            "link_expired",
        ) from None
    except signing.BadSignature:
        raise _invalid(_("This link is not valid."), "bad_signature") from None
    if (
        not isinstance(data, dict)
        or data.get("d") not in DECISIONS
        or not isinstance(data.get("a"), int)
    ):
        raise _invalid(_("This link is not valid."), "bad_signature")
    claim = LinkClaim(approval_id=data["a"], user_id=data.get("u"), decision=data["d"])
    if getattr(user, "pk", None) != claim.user_id:
        raise PermissionDenied(_("This link was sent to someone else. Log in as that person."))
    approval = Approval.objects.select_related("task").filter(pk=claim.approval_id).first()
    if approval is None:
        raise _invalid(_("This request no longer exists."), "unknown")
    return claim, approval


def _absolute(path: str) -> str:
    base = conf.get().APPROVAL_LINK_BASE_URL.rstrip("/")
    return f"{base}{path}" if path else ""


def link_url(approval: Approval, user: Any, decision: str) -> str:
    """The absolute one-click URL of ``decision`` for ``user`` ("" if the pages are not routed)."""
    try:
        path = reverse("scheduler_app:approval_link", args=[make_token(approval, user, decision)])
    except NoReverseMatch:
        return ""
    return _absolute(path)


def page_url(approval: Approval) -> str:
    """The absolute URL of the request's page ("" if the pages are not routed)."""
    try:
        path = reverse("scheduler_app:approval", args=[approval.pk])
    except NoReverseMatch:
        return ""
    return _absolute(path)

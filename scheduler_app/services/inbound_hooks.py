"""Inbound webhooks: verify a signed delivery, refuse replays, emit its event, log it.

A sender signs each request with the hook's secret (HMAC-SHA256)::

    X-Scheduler-Signature: t=<unix seconds>,v1=<hex hmac_sha256(secret, f"{t}.{body}")>

The body is the raw bytes sent (a JSON object). During a rotation's overlap a
sender may put one ``v1=`` per secret; one match is enough. A delivery is
accepted when its timestamp lies within ``SCHEDULER["HOOKS_WINDOW"]`` seconds
of now (either way), a signature matches, the same signed message (timestamp
and body, whichever secret signed it) was not accepted before, and the body
is a JSON object of at most ``HOOKS_MAX_BODY`` bytes; then
``emit(hook.event, body)`` fires. Every request, accepted or refused, is
written to the delivery log; a refusal emits nothing.

Who may create hooks and rotate secrets: scheduler admins (a hook can fire
any task listening to its event). ``user=None`` is the system (commands).

Example::

    hook, secret = inbound_hooks.create_hook(user=admin, event="shop.order.paid")
    header = inbound_hooks.sign(secret, body, timestamp=int(time.time()))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets as secrets_module
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import conf, policy
from scheduler_app.models import (
    AuditSource,
    DeliveryOutcome,
    HookDelivery,
    HookNonce,
    InboundHook,
)
from scheduler_app.services import audit
from scheduler_app.services.emitting import emit

SIGNATURE_HEADER = "X-Scheduler-Signature"
#: Longest signature header read (a few v1= values); a longer one is malformed.
MAX_SIGNATURE_HEADER = 1000
#: Most v1= values compared in one header.
MAX_SIGNATURES = 4
SECRET_BYTES = 32
#: Longest overlap of a rotation (30 days, as the HOOKS_SECRET_OVERLAP setting's check allows).
MAX_OVERLAP = 30 * 86400
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")

STATUS = {
    DeliveryOutcome.ACCEPTED: 202,
    DeliveryOutcome.BAD_BODY: 400,
    DeliveryOutcome.UNSIGNED: 401,
    DeliveryOutcome.BAD_SIGNATURE: 401,
    DeliveryOutcome.STALE: 401,
    DeliveryOutcome.UNKNOWN_EVENT: 404,
    DeliveryOutcome.WRONG_METHOD: 405,
    DeliveryOutcome.REPLAYED: 409,
    DeliveryOutcome.TOO_LARGE: 413,
}


@dataclass(frozen=True)
class Receipt:
    """What became of one delivery: the answer's status and its reason."""

    outcome: str
    reason: str

    @property
    def status_code(self) -> int:
        return STATUS[DeliveryOutcome(self.outcome)]

    @property
    def accepted(self) -> bool:
        return self.outcome == DeliveryOutcome.ACCEPTED

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "outcome": self.outcome, "detail": self.reason}


@dataclass(frozen=True)
class Request:
    """One delivery as the view read it (the body already bounded)."""

    event: str
    body: bytes
    signature: str | None
    remote_addr: str | None = None
    method: str = "POST"
    # Set when the body was longer than HOOKS_MAX_BODY (the view stops reading there).
    too_large: bool = False
    # The size the sender declared (Content-Length), logged when the body was not read.
    declared_size: int = 0


# --- signing ----------------------------------------------------------------------


def signed_message(timestamp: int | str, body: bytes) -> bytes:
    """The bytes a sender signs: ``f"{t}.".encode() + body``."""
    return f"{timestamp}.".encode() + body


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of the signed message under ``secret``."""
    return hmac.new(secret.encode(), signed_message(timestamp, body), hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The value of the ``X-Scheduler-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def parse_signature(header: str) -> tuple[int, list[str]]:
    """``(timestamp, [hex signatures])`` of a header; ValueError with a reason if malformed."""
    if len(header) > MAX_SIGNATURE_HEADER:
        raise ValueError(_("The signature header is too long."))
    timestamp: int | None = None
    found: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise ValueError(_("Each part of the signature header is key=value."))
        if key == "t":
            if timestamp is not None or not _TIMESTAMP_RE.match(value):
                raise ValueError(_("t= must be one timestamp in unix seconds."))
            timestamp = int(value)
        elif key == "v1":
            if not _HEX_RE.match(value):
                raise ValueError(_("v1= must be 64 lowercase hex digits (HMAC-SHA256)."))
            found.append(value)
        # Other keys (a later scheme) are ignored, so senders can add them first.
    if timestamp is None or not found:
        raise ValueError(_("The signature header needs t=<unix seconds> and v1=<hex>."))
    if len(found) > MAX_SIGNATURES:
        raise ValueError(
            _("At most %(count)d v1= signatures are read.") % {"count": MAX_SIGNATURES}
        )
    return timestamp, found


# --- receiving --------------------------------------------------------------------


def receive(request: Request, *, now: dt.datetime | None = None) -> Receipt:
    """Verify ``request``, emit its event if it holds, and log the delivery either way."""
    now = now or timezone.now()
    # No hook's event has a NUL (and PostgreSQL refuses one in a query): such a name is unknown.
    hook = None
    if "\x00" not in request.event:
        hook = InboundHook.objects.receiving().filter(event=request.event).first()
    receipt = _verify_and_emit(hook, request, now)
    _log(hook, request, receipt, now)
    return receipt


def _refuse(outcome: str, reason: str) -> Receipt:
    return Receipt(outcome=outcome, reason=reason)


def _verify_and_emit(hook: InboundHook | None, request: Request, now: dt.datetime) -> Receipt:
    settings = conf.get()
    if hook is None:
        return _refuse(DeliveryOutcome.UNKNOWN_EVENT, _("No webhook receives this event."))
    if request.method != "POST":
        return _refuse(DeliveryOutcome.WRONG_METHOD, _("Send webhooks with POST."))
    if request.too_large or len(request.body) > settings.HOOKS_MAX_BODY:
        return _refuse(
            DeliveryOutcome.TOO_LARGE,
            _("The body is larger than %(limit)d bytes.") % {"limit": settings.HOOKS_MAX_BODY},
        )
    if not request.signature:
        return _refuse(
            DeliveryOutcome.UNSIGNED,
            _("Sign the request: send the %(header)s header.") % {"header": SIGNATURE_HEADER},
        )
    try:
        timestamp, given = parse_signature(request.signature)
    except ValueError as exc:
        return _refuse(DeliveryOutcome.BAD_SIGNATURE, str(exc))
    if not _signed_by_hook(hook, timestamp, request.body, given, now):
        return _refuse(DeliveryOutcome.BAD_SIGNATURE, _("The signature does not match."))
    if abs(now.timestamp() - timestamp) > settings.HOOKS_WINDOW:
        return _refuse(
            DeliveryOutcome.STALE,
            _("The timestamp is more than %(window)d seconds from the server's clock.")
            % {"window": settings.HOOKS_WINDOW},
        )
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser goes (a small body can be that deep).
        return _refuse(DeliveryOutcome.BAD_BODY, _("The body is not valid JSON."))
    if not isinstance(payload, dict):
        return _refuse(DeliveryOutcome.BAD_BODY, _("The body must be a JSON object."))
    return _accept_once(hook, timestamp, request.body, payload, now)


def _signed_by_hook(
    hook: InboundHook, timestamp: int, body: bytes, given: list[str], now: dt.datetime
) -> bool:
    ok = False
    for secret in hook.secrets_accepted(now):
        expected = signature(secret, timestamp, body).encode()
        for value in given:
            # Compare every pair, so the time taken does not tell which one matched.
            ok |= hmac.compare_digest(expected, value.encode())
    return ok


def _accept_once(
    hook: InboundHook, timestamp: int, body: bytes, payload: dict[str, Any], now: dt.datetime
) -> Receipt:
    digest = hashlib.sha256(signed_message(timestamp, body)).hexdigest()
    window = dt.timedelta(seconds=conf.get().HOOKS_WINDOW)
    try:
        with transaction.atomic():
            # The unique (hook, digest) row is the replay guard, across processes and hosts.
            HookNonce.objects.create(hook=hook, digest=digest, seen_at=now)
            with audit.acting_from(AuditSource.WEBHOOK):  # the tasks it starts say so
                emit(hook.event, payload)  # fires after the commit, or not at all
    except IntegrityError:
        return _refuse(DeliveryOutcome.REPLAYED, _("This delivery was already received."))
    except ValidationError as exc:
        return _refuse(DeliveryOutcome.BAD_BODY, " ".join(exc.messages)[:200])
    # A nonce older than two windows belongs to a timestamp that is stale by now.
    HookNonce.objects.filter(seen_at__lt=now - 2 * window).delete()
    return Receipt(outcome=DeliveryOutcome.ACCEPTED, reason=_("Accepted."))


def _log(hook: InboundHook | None, request: Request, receipt: Receipt, now: dt.datetime) -> None:
    HookDelivery.objects.create(
        hook=hook,
        event=request.event.replace("\x00", "\ufffd")[:120],
        received_at=now,
        outcome=receipt.outcome,
        status_code=receipt.status_code,
        reason=receipt.reason[:200],
        # Clipped to the column (a declared length is the sender's word).
        body_size=min(max(len(request.body), request.declared_size), 2**31 - 1),
        remote_addr=request.remote_addr,
    )
    trim_log(conf.get().HOOKS_LOG_MAX)


def trim_log(keep: int) -> int:
    """Delete all but the ``keep`` newest delivery-log rows; return how many went."""
    oldest_kept = list(
        HookDelivery.objects.order_by("-pk").values_list("pk", flat=True)[keep - 1 : keep]
    )
    if not oldest_kept:
        return 0
    return HookDelivery.objects.filter(pk__lt=oldest_kept[0]).delete()[0]


def prune_deliveries(cutoff: dt.datetime) -> int:
    """Delete delivery-log rows received before ``cutoff`` (the log retention)."""
    return HookDelivery.objects.older_than(cutoff).delete()[0]


# --- managing hooks ---------------------------------------------------------------


def new_secret() -> str:
    """A random secret: 43 URL-safe characters (256 bits)."""
    return secrets_module.token_urlsafe(SECRET_BYTES)


def _check_admin(user: Any) -> None:
    if user is not None and not policy.is_scheduler_admin(user):
        raise PermissionDenied(_("Only scheduler admins may manage inbound webhooks."))


def create_hook(
    *, user: Any, event: str, description: str = "", enabled: bool = True
) -> tuple[InboundHook, str]:
    """Create a hook for ``event`` with a new secret; return it and the secret (shown once).

    Raises:
        PermissionDenied: ``user`` is not a scheduler admin.
        ValidationError: a bad or taken event name (field ``event``).
    """
    _check_admin(user)
    secret = new_secret()
    hook = InboundHook(
        event=(event or "").strip(),
        description=description,
        enabled=enabled,
        secret=secret,
        rotated_at=timezone.now(),
    )
    hook.full_clean()
    hook.save()
    return hook, secret


def rotate_secret(
    hook: InboundHook, *, user: Any, now: dt.datetime | None = None, overlap: int | None = None
) -> str:
    """Give ``hook`` a new secret; the old one still signs for ``overlap`` seconds.

    ``overlap`` defaults to ``SCHEDULER["HOOKS_SECRET_OVERLAP"]``; 0 drops the old secret now.
    Returns the new secret, which is shown once and never again in full.
    """
    _check_admin(user)
    now = now or timezone.now()
    overlap = conf.get().HOOKS_SECRET_OVERLAP if overlap is None else overlap
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap <= MAX_OVERLAP:
        raise ValidationError(
            {
                "overlap": _("The overlap is a whole number of seconds from 0 to %(max)d.")
                % {"max": MAX_OVERLAP}
            }
        )
    secret = new_secret()
    with transaction.atomic():
        locked = InboundHook.objects.select_for_update().get(pk=hook.pk)
        locked.previous_secret = locked.secret if overlap else ""
        locked.previous_secret_until = now + dt.timedelta(seconds=overlap) if overlap else None
        locked.secret = secret
        locked.rotated_at = now
        locked.save(
            update_fields=["secret", "previous_secret", "previous_secret_until", "rotated_at"]
        )
    hook.refresh_from_db()
    return secret

"""The inbound webhook endpoint: ``POST <scheduler urls>/hooks/<event>/``.

Reads at most ``SCHEDULER["HOOKS_MAX_BODY"]`` bytes and hands the request to
:mod:`scheduler_app.services.inbound_hooks`, which verifies, emits and logs.
Every answer is JSON: 202 accepted, or a 4xx with the reason.
"""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from scheduler_app import conf
from scheduler_app.services import inbound_hooks


def _remote_addr(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: a forwarded-for header is the sender's word, not the network's.
    value = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _declared_size(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _read_bounded(request: HttpRequest, limit: int) -> tuple[bytes, bool]:
    """The body and whether it was longer than ``limit`` (never more than limit+1 bytes read)."""
    if _declared_size(request) > limit:
        return b"", True  # refused before reading a byte
    body = request.read(limit + 1)
    return body[:limit], len(body) > limit


@csrf_exempt
@never_cache
def receive(request: HttpRequest, event: str) -> JsonResponse:
    """Verify a signed delivery and emit its event; JSON answer either way."""
    too_large = False
    body = b""
    if request.method == "POST":
        body, too_large = _read_bounded(request, conf.get().HOOKS_MAX_BODY)
    receipt = inbound_hooks.receive(
        inbound_hooks.Request(
            event=event,
            body=body,
            signature=request.headers.get(inbound_hooks.SIGNATURE_HEADER),
            remote_addr=_remote_addr(request),
            method=request.method or "",
            too_large=too_large,
            declared_size=_declared_size(request),
        )
    )
    response = JsonResponse(receipt.as_json(), status=receipt.status_code)
    if receipt.status_code == 405:
        response["Allow"] = "POST"
    return response

"""Delivery channels: e-mail (django.core.mail) and a JSON webhook.

A channel never raises: a failed delivery is logged. The outbox
(:mod:`scheduler_app.monitoring.alerts.outbox`) makes one attempt per channel at a time
and retries later; :func:`post_webhook` retries in place. The webhook goes
through the outbound guard (scheduler_app.outbound, imported when a webhook is
posted: every process wires the alerts, few of them send one) and does not follow
redirects: a 3xx answer is a failed delivery, not retried.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder

from scheduler_app.monitoring.alerts.config import AlertSettings, url_problem

if TYPE_CHECKING:
    from scheduler_app.monitoring.alerts.alert import Alert

logger = logging.getLogger("scheduler_app.alerts")

USER_AGENT = "scheduler_app-alerts/1"


def send_email(alert: Alert, recipients: Iterable[str], settings: AlertSettings) -> bool:
    """Mail ``alert`` to ``recipients`` (one message, every address in To)."""
    to = sorted({address for address in recipients if address})
    if not to:
        return False
    try:
        send_mail(
            alert.subject,
            alert.body(),
            settings.from_email or django_settings.DEFAULT_FROM_EMAIL,
            to,
            fail_silently=False,
        )
    except Exception:  # noqa: BLE001 - a mail server problem must not stop the scheduler
        logger.exception("Could not e-mail the %s alert for %s to %s.", alert.kind, alert.key, to)
        return False
    return True


def post_webhook(
    alert: Alert, settings: AlertSettings, *, sleep: Callable[[float], None] = time.sleep
) -> bool:
    """POST ``alert`` as JSON to the webhook; retried on errors, 5xx and 429 answers."""
    url = settings.webhook_url
    reason = url_problem(url)
    if reason:
        logger.error("Alert webhook not called: %s", reason)
        return False
    body, headers = _request(alert, settings)
    delay = settings.webhook_retry_delay
    attempts = 1 + max(0, settings.webhook_retries)
    for attempt in range(1, attempts + 1):
        problem = _post_once(url, body, headers, settings.webhook_timeout)
        if not problem:
            return True
        retry = attempt < attempts and problem[1]
        logger.warning(
            "Alert webhook %s, attempt %d of %d: %s%s",
            _safe(url),
            attempt,
            attempts,
            problem[0],
            "; retrying" if retry else "",
        )
        if not retry:
            break
        sleep(delay)
        delay *= 2
    logger.error(
        "Could not deliver the %s alert for %s to the webhook %s.",
        alert.kind,
        alert.key,
        _safe(url),
    )
    return False


def post_webhook_once(alert: Alert, settings: AlertSettings) -> tuple[str, bool] | None:
    """POST ``alert`` once: None on a 2xx answer, else (what went wrong, whether to retry)."""
    reason = url_problem(settings.webhook_url)
    if reason:
        return reason, False
    body, headers = _request(alert, settings)
    return _post_once(settings.webhook_url, body, headers, settings.webhook_timeout)


def _request(alert: Alert, settings: AlertSettings) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(alert.payload(), cls=DjangoJSONEncoder).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **settings.webhook_headers,
    }
    return body, headers


def _post_once(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> tuple[str, bool] | None:
    """None on a 2xx answer, else (what went wrong, whether to retry)."""
    from scheduler_app import outbound

    request = outbound.Request(
        "POST", url, headers=headers, body=body, timeout=timeout, read_limit=1024
    )
    try:
        response = outbound.fetch(request)
    except outbound.DestinationRefused as exc:
        return f"refused: {exc}", False
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}", True
    status = response.status
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status} (redirects are not followed)", False
    return f"HTTP {status}", status >= 500 or status == 429


def _safe(url: str) -> str:
    """The URL without credentials or query (it may hold a token), for logs."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port: logging must not raise
        return "(an unreadable URL)"
    return f"{parts.scheme}://{parts.hostname}{':' + str(port) if port else ''}{parts.path}"

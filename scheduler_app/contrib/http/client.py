"""Send one HTTP request with urllib and say how it went, as a TaskResult.

Retried: 5xx answers and failures to connect or to get an answer in time.
Not retried: 4xx answers and other unexpected statuses (asking again cannot help).
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from scheduler_app.contrib.http.forms import parse_headers, parse_statuses
from scheduler_app.providers import TaskResult

#: Characters of the response body kept in the run's result.
BODY_EXCERPT = 2000
USER_AGENT = "scheduler_app-http-task"


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would also follow ftp://)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"refused redirect to {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _excerpt(raw: bytes, charset: str | None) -> str:
    text = raw.decode(charset or "utf-8", errors="replace")
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + "…"


def _read(response: Any) -> bytes:
    try:
        # Bytes enough for the excerpt in any encoding; the rest is not downloaded.
        return response.read(BODY_EXCERPT * 4) or b""
    except (OSError, http.client.HTTPException):
        return b""


def send(config: dict[str, Any]) -> TaskResult:
    """Send the request ``config`` describes (a cleaned HttpRequestForm config)."""
    method = config.get("method") or "GET"
    url = config["url"]
    headers = {
        "User-Agent": USER_AGENT,
        **parse_headers(config.get("headers") or ""),
        **parse_headers(config.get("secret_headers") or ""),
    }
    body = config.get("body") or ""
    expected = parse_statuses(config.get("expected_status") or "200-299")
    timeout = float(config.get("timeout") or 30)
    request = urllib.request.Request(
        url, data=body.encode("utf-8") if body else None, headers=headers, method=method
    )
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            status, reason = response.status, response.reason
            raw, charset = _read(response), response.headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        status, reason = exc.code, exc.reason
        raw, charset = _read(exc), exc.headers.get_content_charset() if exc.headers else None
    except (
        urllib.error.URLError,
        TimeoutError,
        ConnectionError,
        http.client.HTTPException,
        OSError,
    ) as exc:
        why = getattr(exc, "reason", None) or exc
        if isinstance(why, (TimeoutError, socket.timeout)) or "timed out" in str(why):
            message = f"No answer from {method} {url} within {timeout:g} s."
        else:
            message = f"Could not reach {method} {url}: {why}"
        return TaskResult.failure(
            message, data={"url": url, "method": method, "error": str(why)}, retry=True
        )
    data = {
        "url": url,
        "method": method,
        "status": status,
        "reason": str(reason or ""),
        "elapsed": round(time.monotonic() - started, 3),
        "body": _excerpt(raw, charset),
    }
    if any(low <= status <= high for low, high in expected):
        return TaskResult.success(f"HTTP {status} {reason or ''}".strip(), data=data)
    message = f"{method} {url} answered HTTP {status} {reason or ''}".strip()
    # A server error may pass; a client error or another unexpected status will not.
    return TaskResult.failure(message, data=data, retry=status >= 500)

"""Send one HTTP request through the outbound guard and say how it went, as a TaskResult.

Retried: 5xx answers and failures to connect or to get an answer in time.
Not retried: 4xx answers, other unexpected statuses, refused destinations and
redirect loops (asking again cannot help).
"""

from __future__ import annotations

import http.client
import time
from typing import Any

from scheduler_app import outbound
from scheduler_app.contrib.http.forms import parse_headers, parse_statuses
from scheduler_app.providers import TaskResult

#: Characters of the response body kept in the run's result.
BODY_EXCERPT = 2000
#: Redirects followed before the run fails; each one is checked by the guard again.
MAX_REDIRECTS = 5
#: Characters of a URL kept in the run's result and messages.
URL_SHOWN = 2000
USER_AGENT = "scheduler_app-http-task"


def _excerpt(raw: bytes, charset: str | None) -> str:
    try:
        text = raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + "…"


def _shown(url: str) -> str:
    return url if len(url) <= URL_SHOWN else url[:URL_SHOWN] + "…"


def send(config: dict[str, Any], *, guard: outbound.Guard | None = None) -> TaskResult:
    """Send the request ``config`` describes (a cleaned HttpRequestForm config)."""
    method = config.get("method") or "GET"
    url = config["url"]
    secret = parse_headers(config.get("secret_headers") or "")
    headers = {"User-Agent": USER_AGENT, **parse_headers(config.get("headers") or ""), **secret}
    body = config.get("body") or ""
    expected = parse_statuses(config.get("expected_status") or "200-299")
    timeout = float(config.get("timeout") or 30)
    request = outbound.Request(
        method=method,
        url=url,
        headers=headers,
        body=body.encode("utf-8") if body else None,
        timeout=timeout,
        secret_headers=frozenset(secret),
        max_redirects=MAX_REDIRECTS,
        # Bytes enough for the excerpt in any encoding; the rest is not downloaded.
        read_limit=BODY_EXCERPT * 4,
    )
    shown = _shown(url)
    started = time.monotonic()
    try:
        response = outbound.fetch(request, guard)
    except outbound.DestinationRefused as exc:
        return TaskResult.failure(
            f"Refused {method} {shown}: {exc}.",
            data={"url": shown, "method": method, "refused": str(exc)},
            retry=False,
        )
    except outbound.TooManyRedirects as exc:
        return TaskResult.failure(
            f"{method} {shown}: {exc}.",
            data={"url": shown, "method": method, "error": str(exc)},
            retry=False,
        )
    except TimeoutError:
        return TaskResult.failure(
            f"No answer from {method} {shown} within {timeout:g} s.",
            data={"url": shown, "method": method, "error": "timed out"},
            retry=True,
        )
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return TaskResult.failure(
            f"Could not reach {method} {shown}: {exc}",
            data={"url": shown, "method": method, "error": str(exc)[:URL_SHOWN]},
            retry=True,
        )
    status, reason = response.status, response.reason
    data = {
        "url": shown,
        "method": method,
        "status": status,
        "reason": reason[:200],
        "elapsed": round(time.monotonic() - started, 3),
        "body": _excerpt(response.body, response.charset()),
    }
    if response.redirects:
        data["redirects"] = [_shown(hop) for hop in response.redirects]
    if any(low <= status <= high for low, high in expected):
        return TaskResult.success(f"HTTP {status} {reason}".strip(), data=data)
    message = f"{method} {shown} answered HTTP {status} {reason}".strip()
    # A server error may pass; a client error or another unexpected status will not.
    return TaskResult.failure(message, data=data, retry=status >= 500)

"""One HTTP exchange through the guard, redirects followed under the same rules.

Redirects are followed like user agents do (the Fetch standard): 301 and 302
turn a POST into a GET, 303 turns anything but GET and HEAD into a GET, and the
body goes with the change; 307 and 308 keep method and body. Every hop is
checked by the guard again. Secret headers go to the origin (scheme, host,
port) of the first URL only: the first redirect to another origin drops them
for the rest of the chain.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from scheduler_app.outbound.guard import DestinationRefused, Guard, Target, TooManyRedirects

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Headers that carry credentials, secret in every request.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Headers that describe a body, dropped with it; and a Host that named the old origin.
_BODY_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "content-language", "content-location"}
)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout: float = 30.0  # seconds for the whole exchange, redirects included
    #: Names of further headers never to send to another origin (any case).
    secret_headers: frozenset[str] = frozenset()
    #: Redirects followed; 0 answers a redirect as it is.
    max_redirects: int = 0
    #: Bytes of the final answer's body read; the rest is not downloaded.
    read_limit: int = 8192


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    url: str
    redirects: tuple[str, ...] = ()  # the URLs redirected to, in order

    def charset(self) -> str | None:
        return self.headers.get_content_charset()


def fetch(request: Request, guard: Guard | None = None) -> Response:
    """Make ``request`` through ``guard`` (the site's by default).

    Raises DestinationRefused before any connection to a refused address,
    TooManyRedirects, TimeoutError, and OSError or http.client.HTTPException
    for network failures.
    """
    guard = guard or Guard.from_settings()
    deadline = time.monotonic() + request.timeout
    secrets = CREDENTIAL_HEADERS | {name.lower() for name in request.secret_headers}
    method, url, body, headers = request.method.upper(), request.url, request.body, request.headers
    first_origin: tuple[str, str, int] | None = None
    redirects: list[str] = []
    while True:
        target = guard.check_url(url)
        first_origin = first_origin or target.origin
        if target.origin != first_origin:
            headers = {k: v for k, v in headers.items() if k.lower() not in secrets | {"host"}}
        status, reason, answer, raw = _exchange(
            guard, target, method, headers, body, deadline, request.read_limit
        )
        location = answer.get("Location")
        if status not in REDIRECT_STATUSES or not location or request.max_redirects == 0:
            return Response(status, str(reason or ""), answer, raw, url, tuple(redirects))
        if len(redirects) >= request.max_redirects:
            raise TooManyRedirects(f"stopped after {request.max_redirects} redirects")
        try:
            url = urljoin(url, location.strip())
        except ValueError:
            raise DestinationRefused("a redirect's Location cannot be read") from None
        redirects.append(url)
        if (status in (301, 302) and method == "POST") or (
            status == 303 and method not in ("GET", "HEAD")
        ):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}


def _exchange(
    guard: Guard,
    target: Target,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    deadline: float,
    read_limit: int,
) -> tuple[int, str, http.client.HTTPMessage, bytes]:
    """Send one request to a checked address of ``target``; read at most ``read_limit`` bytes."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("timed out")
    sock = guard.open(target, remaining)
    connection: http.client.HTTPConnection
    try:
        sock.settimeout(remaining)
        if target.scheme == "https":
            context = guard.tls_context()
            # The name checked against the certificate (and sent as SNI) is the URL's.
            sock = context.wrap_socket(sock, server_hostname=target.host.name)
            connection = http.client.HTTPSConnection(
                target.host.name, target.port, timeout=remaining, context=context
            )
        else:
            connection = http.client.HTTPConnection(
                target.host.name, target.port, timeout=remaining
            )
    except BaseException:
        sock.close()
        raise
    connection.sock = sock  # already connected: http.client does not resolve the name again
    try:
        connection.request(method, target.path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(read_limit) if read_limit and method != "HEAD" else b""
        return response.status, response.reason, response.headers, raw
    finally:
        connection.close()

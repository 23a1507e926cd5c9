"""Redirects of the HTTP task: every hop checked by the guard, secrets kept to their origin.

Two real servers on 127.0.0.1; ``localhost`` and ``127.0.0.1`` (or two ports)
make two origins. Loopback is allowed through OUTBOUND_ALLOWED_NETWORKS here.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from scheduler_app import outbound
from scheduler_app.contrib.http import client
from scheduler_app.engine.passes import run_pass
from scheduler_app.models import TaskExecutionLog
from scheduler_app.outbound.fetch import REDIRECT_STATUSES

LOOPBACK = ["127.0.0.0/8", "::1/128"]
# Two public names for two origins on the same test server (the guard's hooks route them).
PUBLIC_NAMES = {"a.example": "93.184.215.14", "b.example": "93.184.215.15"}
SECRETS = "Authorization: Bearer s3cret\nX-Api-Key: k3y\nCookie: session=abc"
HEADERS = "X-Trace: 42\nContent-Type: text/plain"


class Hop(BaseHTTPRequestHandler):
    """``/redirect?code=302&to=URL`` answers ``code`` with Location URL, ``/loop`` redirects to
    itself; anything else is 200."""

    seen: list[dict] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        Hop.seen.append(
            {
                "port": self.server.server_address[1],
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length).decode() if length else "",
            }
        )
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path == "/loop":
            query = {"code": ["302"], "to": ["/loop"]}
        if parts.path in ("/redirect", "/loop"):
            self.send_response(int(query["code"][0]))
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = f"final {self.command}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


def start() -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hop)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd


@pytest.fixture
def ports(settings):
    """The ports of servers A and B, with loopback allowed."""
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "OUTBOUND_ALLOWED_NETWORKS": LOOPBACK,
    }
    Hop.seen = []
    servers = [start(), start()]
    yield [s.server_address[1] for s in servers]
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def redirect(start: str, code: int, to: str) -> str:
    return f"{start}/redirect?code={code}&to={quote(to, safe='')}"


def send(url: str, method: str = "GET", **config):
    config = {"url": url, "method": method, "headers": HEADERS, "secret_headers": SECRETS, **config}
    return client.send(config)


# (where the redirect goes, whether that is the first URL's origin)
TARGETS = {
    "same origin": ("http://127.0.0.1:{a}/final", True),
    "relative": ("/final", True),
    "other host": ("http://localhost:{b}/final", False),
    "same port, other host": ("http://localhost:{a}/final", False),
    "other port": ("http://127.0.0.1:{b}/final", False),
}


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_redirects_keep_secret_headers_to_the_first_origin_only(ports, code, target, method):
    a, b = ports
    to, same_origin = TARGETS[target]
    body = "payload" if method == "POST" else ""
    result = send(redirect(f"http://127.0.0.1:{a}", code, to.format(a=a, b=b)), method, body=body)
    assert result.ok, result.message
    first, final = Hop.seen
    assert first["headers"]["authorization"] == "Bearer s3cret"
    assert final["path"] == "/final"
    for name in ("authorization", "x-api-key", "cookie"):
        assert (name in final["headers"]) is same_origin, name
    assert final["headers"]["x-trace"] == "42"  # not a secret: it follows
    if method == "POST" and code in (301, 302, 303):
        assert final["method"] == "GET" and final["body"] == ""
        assert "content-type" not in final["headers"]  # it described the dropped body
    else:
        assert final["method"] == method and final["body"] == body
    assert result.data["redirects"][0].endswith("/final")
    assert result.data["body"] == f"final {final['method']}"


@pytest.mark.parametrize(
    ("code", "method", "then"),
    [
        (303, "PUT", "GET"),
        (303, "DELETE", "GET"),
        (303, "HEAD", "HEAD"),
        (302, "PUT", "PUT"),
        (301, "DELETE", "DELETE"),
        (307, "PUT", "PUT"),
        (308, "DELETE", "DELETE"),
    ],
)
def test_other_methods_change_on_a_303_only(ports, code, method, then):
    a, _ = ports
    result = send(redirect(f"http://127.0.0.1:{a}", code, "/final"), method)
    assert result.ok and Hop.seen[-1]["method"] == then


def test_secrets_stay_dropped_when_a_later_redirect_comes_back_to_the_origin(ports):
    a, b = ports
    back = redirect(f"http://localhost:{b}", 302, f"http://127.0.0.1:{a}/final")
    result = send(redirect(f"http://127.0.0.1:{a}", 302, back))
    assert result.ok
    assert [hop["port"] for hop in Hop.seen] == [a, b, a]
    assert "authorization" not in Hop.seen[1]["headers"]
    assert "authorization" not in Hop.seen[2]["headers"]


def test_a_redirect_from_https_to_http_on_the_same_host_is_another_origin():
    first = outbound.parse_url("https://example.com/")
    assert first.origin != outbound.parse_url("http://example.com/").origin
    assert first.origin == outbound.parse_url("https://EXAMPLE.com:443/x").origin


def test_redirects_are_bounded(ports):
    a, _ = ports
    result = send(f"http://127.0.0.1:{a}/loop")
    assert result.status == "failure" and not result.retry
    assert f"stopped after {client.MAX_REDIRECTS} redirects" in result.message
    assert len(Hop.seen) == client.MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    "to",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://0x7f.2:{b}/",  # 127.0.0.2: loopback, outside the allowed 127.0.0.1/32
        "http://2130706434:{b}/",
        "http://[::1]:{b}/",
        "http://localhost:{b}/",  # allowed when it resolves to 127.0.0.1 only
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://127.0.0.1:{b}/",
        "http://user@127.0.0.1:{b}/",
    ],
)
def test_every_redirect_is_checked_by_the_guard_before_connecting(ports, to):
    a, b = ports
    connected = []

    def connect(address, timeout):
        connected.append(address)
        return socket.create_connection(address, timeout)

    def resolve(name, port):
        # localhost as a resolver may also answer: both addresses are checked.
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]

    guard = outbound.Guard(
        allowed=(ipaddress.ip_network("127.0.0.1/32"),), resolve=resolve, connect=connect
    )
    url = redirect(f"http://127.0.0.1:{a}", 302, to.format(b=b))
    result = client.send({"url": url, "method": "GET"}, guard=guard)
    assert result.status == "failure" and not result.retry
    assert result.message.startswith("Refused GET ")
    assert connected == [("127.0.0.1", a)]
    assert [hop["port"] for hop in Hop.seen] == [a]


def test_a_redirect_without_location_is_the_answer(ports):
    a, _ = ports
    result = send(f"http://127.0.0.1:{a}/redirect?code=302&to=", expected_status="302")
    assert result.ok and result.data["status"] == 302 and "redirects" not in result.data


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_request_redirected_to_another_host_does_not_send_its_secret(ports, make_task):
    a, b = ports
    task = make_task(
        "request",
        module="http",
        config={
            "url": redirect(f"http://127.0.0.1:{a}", 302, f"http://localhost:{b}/final"),
            "secret_headers": "Authorization: Bearer s3cret",
        },
        due=timezone.now() - dt.timedelta(seconds=1),
    )
    run_pass()
    log = TaskExecutionLog.objects.get(task=task)
    assert log.status == "success"
    assert [hop["port"] for hop in Hop.seen] == [a, b]
    assert Hop.seen[0]["headers"]["authorization"] == "Bearer s3cret"
    assert "authorization" not in Hop.seen[1]["headers"]
    assert log.result["data"]["redirects"] == [f"http://localhost:{b}/final"]


AUTOMATIC = {"host", "user-agent", "content-length", "accept-encoding", "connection"}
header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True).filter(
    lambda name: name.lower() not in AUTOMATIC
)


@pytest.fixture(scope="module")
def shared_port():
    """One server for every example of a property test."""
    httpd = start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@hsettings(max_examples=60, deadline=None, derandomize=True)
@given(
    names=st.lists(header_names, min_size=1, max_size=4, unique_by=str.lower),
    code=st.sampled_from(sorted(REDIRECT_STATUSES)),
    other_origin=st.booleans(),
    shout=st.booleans(),
)
def test_any_secret_header_is_dropped_on_leaving_the_origin(
    shared_port, names, code, other_origin, shout
):
    Hop.seen = []
    guard = outbound.Guard(
        resolve=lambda name, port: [ipaddress.ip_address(PUBLIC_NAMES[name])],
        connect=lambda address, timeout: socket.create_connection(
            ("127.0.0.1", shared_port), timeout
        ),
    )
    secret = "\n".join(f"{n}: v-{i}" for i, n in enumerate(names))
    # Other headers, named in another case than the secrets: they must follow.
    plain = "\n".join(f"{n.upper() if shout else n.lower()}-plain: p" for n in names)
    to = "http://b.example/final" if other_origin else "http://a.example/final"
    config = {
        "url": redirect("http://a.example", code, to),
        "secret_headers": secret,
        "headers": plain,
    }
    assert client.send(config, guard=guard).ok
    first, final = Hop.seen
    for name in names:
        assert name.lower() in first["headers"]
        assert (name.lower() in final["headers"]) is not other_origin
        assert f"{name.lower()}-plain" in final["headers"]

"""Outbound requests through HTTP(S)_PROXY, with the guard's guarantee kept.

A real CONNECT proxy runs in a thread on 127.0.0.1; it records every tunnel it is
asked for. The guard resolves and checks the target itself and asks the proxy for
a tunnel to the checked *address*, so a refused target never reaches the proxy,
and the proxy cannot be told a different address for the name.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import ipaddress
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from scheduler_app import outbound
from scheduler_app.checks import check_settings
from scheduler_app.contrib.http import client
from scheduler_app.monitoring.alerts import Alert, config, senders

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


# -- a tiny real proxy -------------------------------------------------------------------------


class ConnectProxy(socketserver.ThreadingTCPServer):
    """A CONNECT-only proxy: records each request head, then pipes bytes both ways."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.tunnels: list[str] = []
        self.heads: list[str] = []
        self.refuse_with = 0  # a status to answer CONNECT with instead of opening it

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: ConnectProxy = self.server  # type: ignore[assignment]
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        text = head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        method, authority, _ = text.split("\r\n", 1)[0].split(" ", 2)
        server.heads.append(text)
        if method != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n")
            return
        server.tunnels.append(authority)
        if server.refuse_with:
            self.request.sendall(f"HTTP/1.1 {server.refuse_with} Refused\r\n\r\n".encode())
            return
        host, _, port = authority.rpartition(":")
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = [self.request, upstream]
        try:
            while True:
                readable, _, _ = select.select(pair, [], [], 5)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.request else self.request).sendall(data)
        finally:
            upstream.close()


@pytest.fixture(scope="module")
def proxy():
    server = ConnectProxy()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _clean(proxy, monkeypatch):
    proxy.tunnels.clear()
    proxy.heads.clear()
    proxy.refuse_with = 0
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


# -- the servers behind it -------------------------------------------------------------------


class Origin(BaseHTTPRequestHandler):
    seen: list[dict] = []
    redirect_to = ""

    def _answer(self) -> None:
        Origin.seen.append(
            {"method": self.command, "path": self.path, "host": self.headers["Host"]}
        )
        if Origin.redirect_to:
            self.send_response(302)
            self.send_header("Location", Origin.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer  # noqa: N815

    def log_message(self, *args) -> None:
        pass


def _serve(httpd):
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd


@pytest.fixture
def origin():
    Origin.seen, Origin.redirect_to = [], ""
    httpd = _serve(ThreadingHTTPServer(("127.0.0.1", 0), Origin))
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def resolver(table: dict[str, str]):
    def resolve(name: str, port: int):
        if name not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(table[name])]

    return resolve


def guard_for(settings, names: dict[str, str], **scheduler) -> outbound.Guard:
    """The site's guard (its proxy setting and allow-list) with a resolver table."""
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
        **scheduler,
    }
    return dataclasses.replace(outbound.Guard.from_settings(), resolve=resolver(names))


def get(url: str, guard: outbound.Guard, **kwargs) -> outbound.Response:
    return outbound.fetch(outbound.Request("GET", url, timeout=5, **kwargs), guard)


# -- the environment's proxy is used, with the checked address ----------------------------------


def test_http_proxy_from_the_environment_tunnels_to_the_checked_address(
    settings, proxy, origin, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    guard = guard_for(settings, {"svc.example": "127.0.0.1"})
    response = get(f"http://svc.example:{origin}/status?x=1", guard)
    assert response.status == 200 and response.body == b"ok"
    # The proxy was asked for the address the guard checked, not for the name.
    assert proxy.tunnels == [f"127.0.0.1:{origin}"]
    assert Origin.seen == [
        {"method": "GET", "path": "/status?x=1", "host": f"svc.example:{origin}"}
    ]


def test_the_lower_case_variables_and_no_proxy_are_honoured(settings, proxy, origin, monkeypatch):
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "direct.example,.internal.example")
    guard = guard_for(settings, {"direct.example": "127.0.0.1", "a.internal.example": "127.0.0.1"})
    assert get(f"http://direct.example:{origin}/", guard).status == 200
    assert get(f"http://a.internal.example:{origin}/", guard).status == 200
    assert proxy.tunnels == []
    assert len(Origin.seen) == 2


def test_https_goes_through_the_tunnel_and_verifies_the_urls_name(
    settings, proxy, certificate, monkeypatch
):
    cert, key = certificate
    Origin.seen, Origin.redirect_to = [], ""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    _serve(httpd)
    port = httpd.server_address[1]
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        guard = dataclasses.replace(
            guard_for(settings, {"public.example": "127.0.0.1", "other.example": "127.0.0.1"}),
            tls_context=lambda: ssl.create_default_context(cafile=str(cert)),
        )
        assert get(f"https://public.example:{port}/", guard).status == 200
        assert proxy.tunnels == [f"127.0.0.1:{port}"]
        with pytest.raises(ssl.SSLCertVerificationError, match="other.example"):
            get(f"https://other.example:{port}/", guard)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert Origin.seen == [{"method": "GET", "path": "/", "host": f"public.example:{port}"}]


# -- refused targets never reach the proxy -----------------------------------------------------

REFUSED = st.one_of(
    st.integers(0x0A000000, 0x0AFFFFFF),  # 10/8
    st.integers(0xA9FE0000, 0xA9FEFFFF),  # 169.254/16, the metadata service
    st.integers(0xC0A80000, 0xC0A8FFFF),  # 192.168/16
    st.integers(0xAC100000, 0xAC1FFFFF),  # 172.16/12
    st.integers(0x64400000, 0x647FFFFF),  # 100.64/10
).map(ipaddress.IPv4Address)


@hsettings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(address=REFUSED, literal=st.booleans(), https=st.booleans())
def test_a_refused_target_is_refused_before_the_proxy_is_asked(
    settings, proxy, monkeypatch, address, literal, https
):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    guard = guard_for(settings, {"inside.example": str(address)})
    host = str(address) if literal else "inside.example"
    with pytest.raises(outbound.DestinationRefused):
        get(f"{'https' if https else 'http'}://{host}/", guard)
    assert proxy.tunnels == [] and proxy.heads == []


def test_each_redirect_is_checked_before_the_proxy_is_asked_again(
    settings, proxy, origin, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    Origin.redirect_to = "http://metadata.example/latest/meta-data/"
    guard = guard_for(settings, {"svc.example": "127.0.0.1", "metadata.example": "169.254.169.254"})
    with pytest.raises(outbound.DestinationRefused, match="169.254.169.254"):
        get(f"http://svc.example:{origin}/", guard, max_redirects=5)
    assert proxy.tunnels == [f"127.0.0.1:{origin}"]


# -- the proxy's answers and credentials -------------------------------------------------------


def test_a_proxy_that_refuses_the_tunnel_is_a_connection_error_naming_it(
    settings, proxy, origin, monkeypatch
):
    host, port = proxy.server_address
    monkeypatch.setenv("HTTP_PROXY", f"http://ops:s3cr%40t@{host}:{port}")
    proxy.refuse_with = 403
    guard = guard_for(settings, {"svc.example": "127.0.0.1"})
    with pytest.raises(outbound.ProxyError) as info:
        get(f"http://svc.example:{origin}/", guard)
    assert str(info.value) == (
        f"the proxy {host}:{port} refused the tunnel to 127.0.0.1:{origin}: HTTP/1.1 403 Refused"
    )
    assert "s3cr" not in str(info.value)
    # The credentials in the proxy's URL went to the proxy, and only to it.
    expected = base64.b64encode(b"ops:s3cr@t").decode()
    assert f"Proxy-Authorization: Basic {expected}" in proxy.heads[0]
    assert Origin.seen == []


def test_the_http_task_reports_a_refusing_proxy_as_a_retried_failure(
    settings, proxy, origin, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"]}
    result = client.send({"url": f"http://127.0.0.1:{origin}/", "method": "GET", "timeout": 5})
    assert result.ok and proxy.tunnels == [f"127.0.0.1:{origin}"]
    proxy.refuse_with = 502
    result = client.send({"url": f"http://127.0.0.1:{origin}/", "method": "GET", "timeout": 5})
    assert not result.ok and result.retry
    assert "502" in result.message


def test_the_alert_webhook_goes_through_the_environments_proxy(
    settings, proxy, origin, monkeypatch
):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # the wrong scheme's proxy
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
        "ALERTS": {"WEBHOOK_URL": f"http://127.0.0.1:{origin}/hook", "WEBHOOK_RETRIES": 0},
    }
    alert = Alert("failed", "s", "m", dt.datetime(2026, 6, 1, tzinfo=dt.UTC), task_id=1)
    assert senders.post_webhook_once(alert, config.get()) is None
    assert proxy.tunnels == [f"127.0.0.1:{origin}"]
    assert Origin.seen[0]["method"] == "POST" and Origin.seen[0]["path"] == "/hook"


# -- the setting ---------------------------------------------------------------------------


def test_outbound_proxy_none_ignores_the_environment(settings, proxy, origin, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    guard = guard_for(settings, {"svc.example": "127.0.0.1"}, OUTBOUND_PROXY=None)
    assert get(f"http://svc.example:{origin}/", guard).status == 200
    assert proxy.tunnels == []


def test_an_explicit_outbound_proxy_is_used_without_the_environment(settings, proxy, origin):
    guard = guard_for(settings, {"svc.example": "127.0.0.1"}, OUTBOUND_PROXY=proxy.url)
    assert get(f"http://svc.example:{origin}/", guard).status == 200
    assert proxy.tunnels == [f"127.0.0.1:{origin}"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("socks5://proxy:1080", "only http:// proxies are supported"),
        ("https://proxy:3128", "only http:// proxies are supported"),
        ("http://:3128", "names no host"),
        ("http://proxy:99999", "out of range"),
        (5, "must be a non-empty string"),
        ("  ", "must be a non-empty string"),
    ],
)
def test_a_bad_outbound_proxy_is_check_e031_and_means_no_proxy(settings, value, problem):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_PROXY": value}
    [error] = [m for m in check_settings(None) if m.id == "scheduler_app.E031"]
    assert problem in error.msg
    assert outbound.Guard.from_settings().proxy("http", "x.example", 80) is None


@pytest.mark.parametrize("value", ["environment", None, "", "proxy.example:3128"])
def test_good_outbound_proxy_values_pass_the_check(settings, value):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_PROXY": value}
    assert [m for m in check_settings(None) if m.id == "scheduler_app.E031"] == []


# -- a certificate for the https test -----------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=public.example"]
        + ["-addext", "subjectAltName=DNS:public.example"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypassed"),
    [
        ("svc.example", 80, "*", True),
        ("svc.example", 80, "svc.example", True),
        ("a.svc.example", 80, "svc.example", True),
        ("a.svc.example", 80, ".svc.example", True),
        ("notsvc.example", 80, "svc.example", False),
        ("SVC.Example.", 80, "svc.example", True),
        ("svc.example", 8080, "svc.example:8080", True),
        ("svc.example", 80, "svc.example:8080", False),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("::1", 443, "::1", True),
        ("[::1]", 443, "[::1]:443", True),
        ("10.1.2.3", 80, "10.1.2.3, other.example", True),
        ("svc.example", 80, " , ,", False),
        ("svc.example", 80, "", False),
    ],
)
def test_no_proxy_is_read_as_curl_and_requests_read_it(host, port, no_proxy, bypassed):
    from scheduler_app.outbound.proxies import bypassed as is_bypassed

    assert is_bypassed(host, port, no_proxy) is bypassed

"""The outbound guard (scheduler_app.outbound): which destinations a request may reach.

No test needs the internet: a fake resolver stands for DNS, a connect hook for
the remote host (it hands over a socket to a server on 127.0.0.1).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from scheduler_app import outbound
from scheduler_app.outbound.addresses import parse_networks

PROPERTY = hsettings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

REFUSED_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
REFUSED_V6 = [
    "::/128",
    "::1/128",
    "::/96",
    "::ffff:0:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "4000::/2",  # outside 2000::/3: unassigned
    "8000::/1",
]
# Public neighbours of the refused blocks, and well-known public resolvers.
PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.255",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2001:200::1",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "3ffe:ffff::1",
    "64:ff9b::808:808",  # NAT64 to 8.8.8.8
    "2002:808:808::1",  # 6to4 via 8.8.8.8
    "::ffff:8.8.8.8",
]


class Network:
    """The fake network of a test: a resolver table and a record of connections."""

    def __init__(self, names: dict[str, list[str]] | None = None, server_port: int = 0) -> None:
        self.names = names or {}
        self.looked_up: list[str] = []
        self.connected: list[tuple[str, int]] = []
        self.server_port = server_port

    def resolve(self, name: str, port: int) -> list:
        self.looked_up.append(name)
        if name not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in self.names[name]]

    def connect(self, address: tuple[str, int], timeout: float) -> socket.socket:
        self.connected.append(address)
        if not self.server_port:
            raise AssertionError(f"no connection was expected, got one to {address}")
        return socket.create_connection(("127.0.0.1", self.server_port), timeout)

    def guard(self, *allowed: str) -> outbound.Guard:
        return outbound.Guard(
            allowed=parse_networks(list(allowed)), resolve=self.resolve, connect=self.connect
        )


def refused(url: str, net: Network) -> str:
    """The guard's refusal of a GET of ``url``; fails the test if it was allowed."""
    with pytest.raises(outbound.DestinationRefused) as info:
        outbound.fetch(outbound.Request("GET", url, timeout=2), net.guard())
    assert net.connected == [], "a refused request must not connect"
    return str(info.value)


# -- spellings of IPv4 addresses ------------------------------------------------------------


@st.composite
def ipv4_spellings(draw, address: int):
    """``address`` as URL parsers and inet_aton read it: 1-4 parts, each in any base."""
    count = draw(st.integers(1, 4))
    parts = [(address >> (8 * (3 - i))) & 0xFF for i in range(count - 1)]
    parts.append(address & ((1 << (8 * (5 - count))) - 1))
    spelled = []
    for part in parts:
        base = draw(st.sampled_from(["dec", "oct", "hex", "HEX"]))
        zeros = "0" * draw(st.integers(0, 3))
        if base == "dec":
            spelled.append(str(part))
        elif base == "oct":
            spelled.append("0" + zeros + format(part, "o"))
        else:
            digits = format(part, "x" if base == "hex" else "X")
            spelled.append(("0x" if base == "hex" else "0X") + zeros + digits)
    return ".".join(spelled)


def in_network(cidr: str):
    net = ipaddress.ip_network(cidr)
    return st.integers(0, net.num_addresses - 1).map(lambda i: net[i])


refused_v4 = st.sampled_from(REFUSED_V4).flatmap(in_network)
refused_v6 = st.sampled_from(REFUSED_V6).flatmap(in_network)


@PROPERTY
@given(data=st.data(), address=refused_v4)
def test_every_spelling_of_a_refused_ipv4_address_is_refused_without_a_look_up(data, address):
    spelling = data.draw(ipv4_spellings(int(address)))
    # The resolver of the system reads the spelling as the same address ...
    assert socket.inet_aton(spelling) == address.packed
    # ... and so does the guard, which refuses it without asking any resolver.
    assert outbound.parse_host(spelling.lower()).address == address
    dot = data.draw(st.sampled_from(["", "."]))
    scheme = data.draw(st.sampled_from(["http", "https", "HTTP", "hTtPs"]))
    port = data.draw(st.sampled_from(["", ":80", ":8080", ":5432"]))
    net = Network()
    refused(f"{scheme}://{spelling}{dot}{port}/path?q=1", net)
    assert net.looked_up == []


@PROPERTY
@given(address=refused_v4, form=st.sampled_from(["mapped", "mapped-hex", "nat64", "6to4"]))
def test_refused_ipv4_addresses_inside_ipv6_are_refused(address, form):
    high, low = int(address) >> 16, int(address) & 0xFFFF
    v6 = {
        "mapped": f"::ffff:{address}",
        "mapped-hex": f"::ffff:{high:x}:{low:x}",
        "nat64": f"64:ff9b::{address}",
        "6to4": f"2002:{high:x}:{low:x}::1",
    }[form]
    assert outbound.refusal(address) in refused(f"http://[{v6}]/", Network())


@PROPERTY
@given(address=refused_v6, upper=st.booleans(), exploded=st.booleans())
def test_refused_ipv6_addresses_are_refused_in_every_spelling(address, upper, exploded):
    text = address.exploded if exploded else address.compressed
    text = text.upper() if upper else text
    refused(f"http://[{text}]:8000/", Network())


@PROPERTY
@given(address=st.one_of(refused_v4, refused_v6), public=st.sampled_from(PUBLIC))
def test_a_name_is_refused_when_any_address_it_resolves_to_is_refused(address, public):
    net = Network({"service.example": [public, str(address)]})
    message = refused("https://service.example/hook", net)
    assert f"service.example resolves to {address}" in message
    assert net.looked_up == ["service.example"]


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://127.0.0.1./",
        "http://0/",
        "http://0.0.0.0:8000/",
        "http://[::]/",
        "http://[::1]:5432/",
        "http://１２７.０.０.１/",  # full-width digits
        "http://127。0。0。1/",  # ideographic full stops
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:c0a8:101::1]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
        "http://[fe80::1%25eth0]/",  # zone id
        "http://[fe80::1]/",
        "http://[fec0::1]/",
        "http://a@127.0.0.1/",
        "http://a:b@example.com/",
        "http://127.0.0.1\\@example.com/",
        "http://example.com\\@127.0.0.1/",
        "http://exa mple.com/",
        "http://127.0.0.1:0/",
        "http://[::1]x/",
        "http://1.2.3.4.5/",
        "http://08.0.0.1/",
        "http://foo.127/",
        "http://a..b/",
        "http:///path",
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com:70/",
        "javascript:alert(1)",
    ],
)
def test_odd_urls_are_refused_without_a_look_up_or_a_connection(url):
    net = Network()
    assert refused(url, net)
    assert net.looked_up == []


# -- what is allowed -----------------------------------------------------------------------


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert outbound.decide(ipaddress.ip_address(address)) is None


def python_says_public(address: ipaddress.IPv4Address) -> bool:
    # Python (3.11 and 3.13 alike) counts these /24s and multicast as global; the guard does not.
    stricter = ("192.0.0.0/24", "192.88.99.0/24")
    return (
        address.is_global
        and not address.is_multicast
        and not any(address in ipaddress.ip_network(n) for n in stricter)
    )


@PROPERTY
@given(address=st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_the_ipv4_rule_matches_python_where_python_is_sure(address):
    if python_says_public(address):
        assert outbound.decide(address) is None
    if not address.is_global or address.is_multicast or address.is_reserved:
        assert outbound.decide(address) is not None


@PROPERTY
@given(address=in_network("2000::/3"))
def test_global_unicast_ipv6_is_allowed_outside_the_special_blocks(address):
    special = ["2001::/23", "2001:db8::/32", "3fff::/20", "2002::/16"]
    if not any(address in ipaddress.ip_network(n) for n in special):
        assert outbound.decide(address) is None


@PROPERTY
@given(address=st.one_of(refused_v4, refused_v6))
def test_an_allowed_network_lets_its_addresses_through(address):
    network = ipaddress.ip_network(f"{address}/{address.max_prefixlen}")
    assert outbound.decide(address) is not None
    assert outbound.decide(address, [network]) is None


def test_an_allowed_ipv4_network_covers_its_ipv4_mapped_spelling():
    allowed = parse_networks(["10.0.0.0/8"])
    assert outbound.decide(ipaddress.ip_address("::ffff:10.1.2.3"), allowed) is None
    assert outbound.decide(ipaddress.ip_address("::ffff:11.1.2.3"), allowed) is None
    assert outbound.decide(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is not None


# -- resolve once, connect to the checked address --------------------------------------------


class Echo(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802
        Echo.seen.append({"path": self.path, "host": self.headers.get("Host")})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def echo_port():
    Echo.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_public_name_is_requested_at_its_checked_address_with_its_own_host_header(echo_port):
    net = Network({"public.example": ["93.184.215.14"]}, server_port=echo_port)
    response = outbound.fetch(
        outbound.Request("GET", "http://public.example/status?x=1", timeout=5), net.guard()
    )
    assert response.status == 200 and response.body == b"ok"
    assert net.connected == [("93.184.215.14", 80)]
    assert Echo.seen == [{"path": "/status?x=1", "host": "public.example"}]


def test_a_name_is_resolved_once_per_request_so_it_cannot_rebind(echo_port):
    class Rebinding(Network):
        def resolve(self, name, port):
            first = not self.looked_up
            self.looked_up.append(name)
            return [ipaddress.ip_address("93.184.215.14" if first else "127.0.0.1")]

    net = Rebinding(server_port=echo_port)
    outbound.fetch(outbound.Request("GET", "http://rebind.example/", timeout=5), net.guard())
    assert net.looked_up == ["rebind.example"]
    assert net.connected == [("93.184.215.14", 80)]


def test_the_next_checked_address_is_tried_when_one_does_not_answer(echo_port):
    class FirstDown(Network):
        def connect(self, address, timeout):
            if not self.connected:
                self.connected.append(address)
                raise ConnectionRefusedError("down")
            return super().connect(address, timeout)

    net = FirstDown({"two.example": ["2606:4700::1", "93.184.215.14"]}, server_port=echo_port)
    outbound.fetch(outbound.Request("GET", "http://two.example/", timeout=5), net.guard())
    assert net.connected == [("2606:4700::1", 80), ("93.184.215.14", 80)]


def test_a_private_name_in_an_allowed_network_is_requested(echo_port):
    net = Network({"intranet.example": ["10.20.30.40"]}, server_port=echo_port)
    with pytest.raises(outbound.DestinationRefused, match="a private address"):
        outbound.fetch(outbound.Request("GET", "http://intranet.example/", timeout=5), net.guard())
    guard = net.guard("10.20.0.0/16")
    outbound.fetch(outbound.Request("GET", "http://intranet.example/", timeout=5), guard)
    assert net.connected == [("10.20.30.40", 80)]


def test_the_default_guard_reads_the_setting(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": ["10.0.0.0/8", "x"]}
    assert outbound.Guard.from_settings().allowed == (ipaddress.ip_network("10.0.0.0/8"),)
    assert outbound.url_problem("http://10.1.1.1/") == ""
    assert "loopback" in outbound.url_problem("http://127.0.0.1/")
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": []}
    assert "private" in outbound.url_problem("http://10.1.1.1/")


def test_an_ipv6_literal_is_requested_with_its_bracketed_host_header(echo_port):
    net = Network(server_port=echo_port)
    outbound.fetch(outbound.Request("GET", "http://[2606:4700::1]:8080/", timeout=5), net.guard())
    assert net.connected == [("2606:4700::1", 8080)]
    assert Echo.seen == [{"path": "/", "host": "[2606:4700::1]:8080"}]


# -- https: the certificate is checked against the URL's name, not the address ------------


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


@pytest.fixture
def tls_port(certificate):
    cert, key = certificate
    Echo.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def tls_guard(net: Network, certificate) -> outbound.Guard:
    return dataclasses.replace(
        net.guard(), tls_context=lambda: ssl.create_default_context(cafile=str(certificate[0]))
    )


def test_https_connects_to_the_checked_address_and_verifies_the_urls_name(tls_port, certificate):
    net = Network({"public.example": ["93.184.215.14"]}, server_port=tls_port)
    guard = tls_guard(net, certificate)
    response = outbound.fetch(outbound.Request("GET", "https://public.example/", timeout=5), guard)
    assert response.status == 200
    assert net.connected == [("93.184.215.14", 443)]
    assert Echo.seen == [{"path": "/", "host": "public.example"}]


def test_https_refuses_a_certificate_for_another_name(tls_port, certificate):
    net = Network({"other.example": ["93.184.215.14"]}, server_port=tls_port)
    with pytest.raises(ssl.SSLCertVerificationError, match="other.example"):
        outbound.fetch(
            outbound.Request("GET", "https://other.example/", timeout=5),
            tls_guard(net, certificate),
        )
    assert Echo.seen == []

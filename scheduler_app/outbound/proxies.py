"""HTTP proxies for outbound requests, without giving up the guard's guarantee.

The guard resolves the target's name itself and checks every address; through a
proxy the request must still reach exactly a checked address. So every request,
http and https alike, goes through a ``CONNECT`` tunnel to the checked *address*
(never the name: the proxy would resolve it again, and could be told something
else). The URL's name still goes in the Host header and in TLS (SNI and the
certificate check), as without a proxy. A proxy that allows ``CONNECT`` only to
port 443 therefore cannot carry plain-http requests to port 80; it answers 403,
which is reported as such.

The proxy itself is the site's configuration, not user input: its address is
not checked by the guard (it is usually on a private network).
"""

from __future__ import annotations

import base64
import ipaddress
import re
import socket
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from scheduler_app.outbound.addresses import IPAddress

#: The setting's value that reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY per request.
ENVIRONMENT = "environment"
#: A DNS name (labels of letters, digits, "-" and "_"; a final dot allowed).
_HOST_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?", re.ASCII | re.I
)
#: A NO_PROXY entry's port.
_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)
#: Longest CONNECT answer (status line and headers) read from a proxy.
MAX_ANSWER = 16384


class ProxyError(ConnectionError):
    """The proxy could not be reached or refused to open the tunnel."""


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    #: The Proxy-Authorization value, from credentials in the proxy's URL (base64 is no
    #: cover: kept out of repr(), which tracebacks with locals and %r in logs show).
    authorization: str | None = field(default=None, repr=False)

    def __str__(self) -> str:  # credentials are never shown
        return f"{self.host}:{self.port}"


#: Which proxy, if any, carries a request to (scheme, host name, port).
ProxyChooser = Callable[[str, str, int], "Proxy | None"]


def parse_proxy(url: object) -> Proxy:
    """Read an ``http://[user:password@]host:port`` proxy URL; ValueError says what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("a proxy URL must be a non-empty string")
    text = url.strip()
    if "://" not in text:
        text = "http://" + text  # as curl and urllib read "proxy:3128"
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        # urllib's own message quotes the port's text, which is the password when
        # the URL's '@' is missing or comes after an unencoded '/', '?' or '#'.
        raise ValueError("the proxy URL's port is not a number or out of range (1 to 65535)")
    if parts.scheme != "http":
        raise ValueError(
            f"only http:// proxies are supported (the tunnel carries TLS), not {parts.scheme}://"
        )
    if not parts.hostname:
        raise ValueError("the proxy URL names no host")
    if not _is_host(parts.hostname):
        raise ValueError("the proxy URL's host is neither a name nor an address")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return Proxy(parts.hostname, port or 80, authorization)


def _is_host(host: str) -> bool:
    """Whether ``host`` (as urlsplit gives it) is an IP address or a DNS name.

    urlsplit takes any text there ("pro xy", a NUL byte), which would only fail
    at the first request; a bad setting is check E031 instead.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _HOST_NAME.fullmatch(name) is not None


def no_proxy(scheme: str, host: str, port: int) -> Proxy | None:
    """Connect directly."""
    return None


def environment_proxy(scheme: str, host: str, port: int) -> Proxy | None:
    """The proxy HTTP_PROXY / HTTPS_PROXY name for ``scheme``, unless NO_PROXY lists ``host``.

    Read at each request (as curl and requests do), so a changed environment applies
    without a restart. A proxy variable that cannot be read is ignored, as urllib does.
    """
    proxies = urllib.request.getproxies_environment()
    url = proxies.get(scheme)
    if not url or bypassed(host, port, proxies.get("no", "")):
        return None
    try:
        return parse_proxy(url)
    except ValueError:
        return None


def bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether NO_PROXY lists ``host`` (as curl and requests read it).

    Entries are separated by commas (or spaces): ``*`` for every host, a name that
    matches itself and its subdomains (a leading dot is optional), ``name:port``
    for one port only, and IP addresses or networks (``10.0.0.0/8``) for addresses.
    """
    name = host.lower().strip("[]").rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(name)
    except ValueError:
        address = None
    for entry in no_proxy.replace(" ", ",").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        wanted_port = None
        if entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry):
            entry, _, text = entry.rpartition(":")
            # ASCII digits only: str.isdigit() also takes "²" (int() refuses it) and
            # other scripts' digits, which curl and requests do not read as a port.
            wanted_port = int(text) if _PORT.fullmatch(text) else -1
        if wanted_port is not None and wanted_port != port:
            continue
        # "*.example.com" is read as ".example.com" (as Go's and curl's NO_PROXY are).
        entry = entry.strip("[]").removeprefix("*").lstrip(".").rstrip(".")
        if not entry:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if name == entry or name.endswith("." + entry):
            return True
    return False


def fixed_proxy(url: str) -> ProxyChooser:
    """Every request through the proxy at ``url``."""
    proxy = parse_proxy(url)
    return lambda scheme, host, port: proxy


def chooser(setting: object) -> ProxyChooser:
    """The chooser ``SCHEDULER["OUTBOUND_PROXY"]`` names (a bad value: ValueError)."""
    if setting is None or setting == "":
        return no_proxy
    if setting == ENVIRONMENT:
        return environment_proxy
    return fixed_proxy(setting)  # type: ignore[arg-type]


def setting_problem(setting: object) -> str:
    """What is wrong with an OUTBOUND_PROXY value ('' if nothing)."""
    try:
        chooser(setting)
    except ValueError as exc:
        return str(exc)
    return ""


def open_tunnel(sock: socket.socket, proxy: Proxy, address: IPAddress, port: int) -> None:
    """Ask ``proxy`` (connected as ``sock``) for a tunnel to ``address``:``port``."""
    authority = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
    answer = _read_head(sock)
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProxyError(f"the proxy {proxy} gave no HTTP answer to CONNECT")
    if not 200 <= int(parts[1]) < 300:
        raise ProxyError(f"the proxy {proxy} refused the tunnel to {authority}: {status_line[:80]}")


def _read_head(sock: socket.socket) -> bytes:
    # One byte at a time: nothing after the blank line may be consumed, it belongs to
    # the tunnel (TLS or the HTTP answer).
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise ProxyError("the proxy closed the connection before answering CONNECT")
        head += byte
        if len(head) > MAX_ANSWER:
            raise ProxyError(f"the proxy's answer to CONNECT is longer than {MAX_ANSWER} bytes")
    return bytes(head)

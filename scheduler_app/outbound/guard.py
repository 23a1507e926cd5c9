"""The outbound guard: read a URL strictly, resolve its host once, refuse what is not public.

Every address a name resolves to is checked, and the connection is made to a
checked address (the URL's name still goes in the Host header and in TLS), so a
name cannot resolve to a public address for the check and to a private one for
the connection.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from scheduler_app import conf
from scheduler_app.exceptions import SchedulerError
from scheduler_app.outbound.addresses import (
    BadHost,
    Host,
    IPAddress,
    Network,
    decide,
    parse_address,
    parse_host,
    parse_networks,
)
from scheduler_app.outbound.proxies import ProxyChooser, chooser, no_proxy, open_tunnel
from scheduler_app.quoting import quote_input

SCHEMES = {"http": 80, "https": 443}
#: Longest URL followed (a redirect's Location included).
MAX_URL_LENGTH = 8192
# Spaces, control characters and backslashes: parsers disagree on what they mean.
_AMBIGUOUS = re.compile(r"[\x00-\x20\x7f\\]")
_NETLOC = re.compile(r"(\[[0-9A-Za-z:.%]+\]|[^\[\]:@]+)(:[0-9]{1,5})?")

Resolver = Callable[[str, int], Sequence[IPAddress]]
Connector = Callable[[tuple[str, int], float], socket.socket]


class OutboundError(SchedulerError):
    """An outbound request that was not made or not finished, with a reason fit to show."""


class DestinationRefused(OutboundError):
    """The URL, or an address its host resolves to, may not be requested."""


class TooManyRedirects(OutboundError):
    """A request was redirected more often than allowed."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to ask for."""

    scheme: str
    host: Host
    port: int
    path: str  # the request target: path and query, percent-encoded ASCII

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host.name, self.port)


def parse_url(url: object) -> Target:
    """Read ``url`` strictly as an http(s) URL; DestinationRefused says what is wrong."""
    if not isinstance(url, str) or not url:
        raise DestinationRefused("no URL given")
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _AMBIGUOUS.search(url):
        raise DestinationRefused("the URL contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"the URL cannot be read ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise DestinationRefused("only http:// and https:// URLs are requested")
    if "@" in parts.netloc:
        raise DestinationRefused(
            "the URL holds credentials (user@host); send them in a secret header instead"
        )
    if not parts.hostname or not _NETLOC.fullmatch(parts.netloc):
        raise DestinationRefused("the URL names no valid host")
    if port == 0:
        raise DestinationRefused("port 0 is not a port")
    try:
        host = parse_host(parts.hostname)
    except BadHost as exc:
        raise DestinationRefused(str(exc)) from None
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return Target(parts.scheme, host, port or SCHEMES[parts.scheme], path)


def system_resolve(name: str, port: int) -> list[IPAddress]:
    """Every address ``name`` resolves to, in the resolver's order."""
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(parse_address(str(info[4][0])) for info in infos))


def _create_connection(address: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(address, timeout)


@dataclass(frozen=True)
class Guard:
    """The rule and the network hooks of outbound requests.

    ``resolve`` and ``connect`` are the only ways out to the network; tests
    pass their own to stand for a resolver or a remote host (and a
    ``tls_context`` that trusts its certificate). ``proxy`` chooses the proxy
    of a request (none by default); ``connect_proxy`` reaches it.
    """

    allowed: tuple[Network, ...] = ()
    resolve: Resolver = field(default=system_resolve)
    connect: Connector = field(default=_create_connection)
    tls_context: Callable[[], ssl.SSLContext] = field(default=ssl.create_default_context)
    proxy: ProxyChooser = field(default=no_proxy)
    connect_proxy: Connector = field(default=_create_connection)

    @classmethod
    def from_settings(cls) -> Guard:
        """The guard with the site's ``OUTBOUND_ALLOWED_NETWORKS`` and ``OUTBOUND_PROXY``.

        A bad ``OUTBOUND_PROXY`` (check E031) means no proxy rather than no requests.
        """
        s = conf.get()
        try:
            proxy = chooser(s.OUTBOUND_PROXY)
        except ValueError:
            proxy = no_proxy
        return cls(allowed=parse_networks(s.OUTBOUND_ALLOWED_NETWORKS), proxy=proxy)

    def check_url(self, url: object) -> Target:
        """Read ``url`` and check its host if it is an address; no resolver is asked."""
        target = parse_url(url)
        if target.host.address is not None:
            self._check(target.host.address, target)
        return target

    def addresses(self, target: Target) -> list[IPAddress]:
        """The checked addresses of ``target``: all of them may be requested, or none."""
        if target.host.address is not None:
            self._check(target.host.address, target)
            return [target.host.address]
        found = list(self.resolve(target.host.name, target.port))
        if not found:
            raise OSError(f"{target.host.name} resolves to no address")
        for address in found:
            self._check(address, target)
        return found

    def open(self, target: Target, timeout: float) -> socket.socket:
        """A socket connected to a checked address of ``target`` (tried in the resolver's order).

        Through a proxy, the socket is a tunnel the proxy opened to the checked address
        (not to the name, which the proxy would resolve again); see ``proxies``.
        """
        problem: OSError | None = None
        addresses = self.addresses(target)
        proxy = self.proxy(target.scheme, target.host.name, target.port)
        for address in addresses:
            try:
                if proxy is None:
                    return self.connect((str(address), target.port), timeout)
                sock = self.connect_proxy((proxy.host, proxy.port), timeout)
                try:
                    sock.settimeout(timeout)
                    open_tunnel(sock, proxy, address, target.port)
                except BaseException:
                    sock.close()
                    raise
                return sock
            except OSError as exc:
                problem = exc
        assert problem is not None
        raise problem

    def _check(self, address: IPAddress, target: Target) -> None:
        why = decide(address, self.allowed)
        if why is None:
            return
        if target.host.address is not None:
            # Name the address meant: 0x7f.1 is 127.0.0.1, ::ffff:a00:1 is 10.0.0.1.
            mapped = getattr(address, "ipv4_mapped", None)
            meant, spelled = str(mapped or address), quote_input(target.host.name)
            subject = spelled if spelled == meant else f"{spelled} ({meant})"
        else:
            subject = f"{quote_input(target.host.name)} resolves to {address}"
        raise DestinationRefused(
            f"{subject}, {why}, which is not allowed "
            '(SCHEDULER["OUTBOUND_ALLOWED_NETWORKS"] may allow it)'
        )


def url_problem(url: object, guard: Guard | None = None) -> str:
    """Why ``url`` is refused without resolving its host ('' if it may be tried)."""
    try:
        (guard or Guard.from_settings()).check_url(url)
    except DestinationRefused as exc:
        return str(exc)
    return ""

"""Which IP addresses an outbound request may reach, and how a URL's host is read.

The rule: public unicast addresses only, unless the site allows a network in
``SCHEDULER["OUTBOUND_ALLOWED_NETWORKS"]``. The tables follow the IANA
special-purpose address registries (RFC 6890 and successors). They are written
out here rather than taken from ``ipaddress``'s ``is_private``/``is_global``,
whose answers changed between Python releases (3.11.7 and 3.13 disagree).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

_REFUSED_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "an unspecified (“this network”) address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata services live here)"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved (6to4 relay) address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),  # includes the broadcast 255.255.255.255
    )
)
# First match wins, so the narrow blocks come before the wide ones.
_REFUSED_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), why)
    for net, why in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "an IPv4-compatible address (deprecated)"),
        ("::ffff:0:0:0/96", "an IPv4-translated address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo address"),
        ("2001::/23", "an IETF protocol assignment"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address (deprecated)"),
        ("ff00::/8", "a multicast address"),
    )
)
# The only IPv6 space allocated for global unicast; all else is special or unassigned.
GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
NAT64 = IPv6Network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address
SIX_TO_FOUR = IPv6Network("2002::/16")


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination (e.g. "a loopback address"), or None."""
    if isinstance(address, IPv4Address):
        return next((why for net, why in _REFUSED_V4 if address in net), None)
    if address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)  # a socket sends ::ffff:a.b.c.d to a.b.c.d
    why = next((why for net, why in _REFUSED_V6 if address in net), None)
    if why:
        return why
    if address not in GLOBAL_UNICAST_V6 and address not in NAT64:
        return "a reserved address"
    embedded = embedded_ipv4(address)
    if embedded is not None:
        inner = refusal(embedded)
        if inner:
            return f"an IPv6 address that leads to {embedded}, {inner}"
    return None


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 address is a gateway to, if any."""
    if address in SIX_TO_FOUR:
        return address.sixtofour
    if address in NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_allowed(address: IPAddress, allowed: Iterable[Network]) -> bool:
    """Whether a network the site allowed contains ``address`` (or the IPv4 it maps to)."""
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return any(address in net or (mapped is not None and mapped in net) for net in allowed)


def decide(address: IPAddress, allowed: Iterable[Network] = ()) -> str | None:
    """Why a request to ``address`` is refused, or None when it may go."""
    if is_allowed(address, allowed):
        return None
    return refusal(address)


# -- the allow-list setting ---------------------------------------------------------------


def network_problems(value: object) -> list[str]:
    """What is wrong with an OUTBOUND_ALLOWED_NETWORKS value (empty: nothing)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return [f"must be a list of networks, not {type(value).__name__}"]
    found = []
    for item in value:
        if not isinstance(item, str):
            found.append(f"{item!r} is not a string")
            continue
        try:
            ip_network(item.strip(), strict=True)
        except ValueError as exc:
            found.append(f"{item!r} is not a network in CIDR notation ({exc})")
    return found


def parse_networks(value: object) -> tuple[Network, ...]:
    """The valid networks of an OUTBOUND_ALLOWED_NETWORKS value; bad entries allow nothing."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return ()
    networks = []
    for item in value:
        try:
            networks.append(ip_network(item.strip(), strict=True))
        except (AttributeError, TypeError, ValueError):
            continue  # reported by the system check; failing closed
    return tuple(networks)


# -- hosts as written in URLs -------------------------------------------------------------

_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")


class BadHost(ValueError):
    """A URL's host that is no valid name or address."""


@dataclass(frozen=True)
class Host:
    """A URL's host: ``name`` for the Host header and TLS, ``address`` if it is an IP literal."""

    name: str
    address: IPAddress | None = None


def parse_host(raw: str) -> Host:
    """Read a URL's host (as urlsplit's ``hostname`` gives it); BadHost if it is not one.

    Every spelling a resolver would take as an address (``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``, ``127.1``, full-width digits) is read as that
    address here, so the literal is checked without asking any resolver.
    """
    if "%" in raw:
        raise BadHost("IPv6 zone ids (%) are not allowed in URLs")
    if ":" in raw:
        try:
            return Host(raw, IPv6Address(raw))
        except ValueError:
            raise BadHost(f"{raw!r} is not a valid IPv6 address") from None
    try:
        # IDNA maps full-width and other look-alike characters to ASCII (nameprep, NFKC).
        name = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadHost(f"{raw!r} is not a valid host name") from None
    if name.endswith("."):
        name = name[:-1]
    # Like the WHATWG URL standard: a host whose last label is a number is an IPv4 address.
    if name and _NUMBER.fullmatch(name.rsplit(".", 1)[-1]):
        return Host(name, _parse_ipv4(name))
    if len(name) > 253 or not _HOST_NAME.fullmatch(name):
        raise BadHost(f"{raw!r} is not a valid host name")
    return Host(name)


def _parse_ipv4(text: str) -> IPv4Address:
    """Read an IPv4 address the way inet_aton and URL parsers do: 1-4 parts, any base."""
    parts = text.split(".")
    if len(parts) > 4:
        raise BadHost(f"{text!r} is not a valid IPv4 address")
    numbers = []
    for part in parts:
        number = _parse_ipv4_number(part)
        if number is None:
            raise BadHost(f"{text!r} is not a valid IPv4 address")
        numbers.append(number)
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise BadHost(f"{text!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


_DIGITS = {16: re.compile(r"[0-9a-f]+"), 8: re.compile(r"[0-7]+"), 10: re.compile(r"[0-9]+")}


def _parse_ipv4_number(part: str) -> int | None:
    if part.startswith("0x"):
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not _DIGITS[base].fullmatch(digits):
        return None  # int() alone would also take "+1", "1_0" and spaces
    try:
        return int(digits, base)
    except ValueError:  # more digits than int() converts
        return None


def parse_address(text: str) -> IPAddress:
    """An address as a resolver returns it (IPv6 scope ids dropped)."""
    return ip_address(text.split("%", 1)[0])

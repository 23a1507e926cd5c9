"""Outbound requests: the one way scheduler_app reaches other hosts (HTTP task, alert webhooks).

Destinations are refused unless public (or in ``SCHEDULER["OUTBOUND_ALLOWED_NETWORKS"]``),
checked on every resolved address and again on each redirect; see docs/security.md.
"""

from scheduler_app.outbound.addresses import decide, network_problems, parse_host, refusal
from scheduler_app.outbound.fetch import CREDENTIAL_HEADERS, Request, Response, fetch
from scheduler_app.outbound.guard import (
    DestinationRefused,
    Guard,
    OutboundError,
    Target,
    TooManyRedirects,
    parse_url,
    url_problem,
)
from scheduler_app.outbound.proxies import Proxy, ProxyError, parse_proxy
from scheduler_app.outbound.proxies import setting_problem as proxy_setting_problem

__all__ = [
    "CREDENTIAL_HEADERS",
    "DestinationRefused",
    "Guard",
    "OutboundError",
    "Proxy",
    "ProxyError",
    "Request",
    "Response",
    "Target",
    "TooManyRedirects",
    "decide",
    "fetch",
    "network_problems",
    "parse_host",
    "parse_proxy",
    "proxy_setting_problem",
    "parse_url",
    "refusal",
    "url_problem",
]

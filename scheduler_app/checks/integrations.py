"""Checks of the settings that reach outside: alerts, the health token, the HTTP API's
throttle rates and the outbound network guard (E020, E021, E030, E031, E040, W030).

Run as part of :func:`scheduler_app.checks.settings.check_settings`.
"""

from __future__ import annotations

import re
from typing import Any

from django.core import checks

from scheduler_app import conf


def outbound_messages(s: conf.SchedulerSettings) -> list[checks.CheckMessage]:
    from scheduler_app import outbound
    from scheduler_app.monitoring.alerts import config as alert_config

    found: list[checks.CheckMessage] = [
        checks.Error(
            f"SCHEDULER['OUTBOUND_ALLOWED_NETWORKS']: {problem}.",
            id="scheduler_app.E030",
            hint="Use a list of networks in CIDR notation with no host bits set, "
            "e.g. ['10.20.0.0/16', 'fd00:1::/64'].",
        )
        for problem in outbound.network_problems(s.OUTBOUND_ALLOWED_NETWORKS)
    ]
    proxy_problem = outbound.proxy_setting_problem(s.OUTBOUND_PROXY)
    if proxy_problem:
        found.append(
            checks.Error(
                f"SCHEDULER['OUTBOUND_PROXY']: {proxy_problem}.",
                id="scheduler_app.E031",
                hint='Use "environment" (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), None for no '
                'proxy, or a URL such as "http://proxy.example:3128".',
            )
        )
    webhook = alert_config.get().webhook_url
    refused = webhook and outbound.url_problem(webhook)
    if refused:
        found.append(
            checks.Warning(
                f"Alerts will not reach the webhook: {refused}.",
                id="scheduler_app.W030",
                hint="Add the webhook's network to SCHEDULER['OUTBOUND_ALLOWED_NETWORKS'] "
                "if this internal address is meant.",
            )
        )
    return found


API_THROTTLE_SCOPES = ("read", "write")
API_RATE_RE = re.compile(r"^[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)$")


def api_throttle_messages(rates: Any) -> list[checks.CheckMessage]:
    """The HTTP API's throttle rates: None, or {"read"/"write": "n/period" or None}."""
    if rates is None:
        return []
    bad = not isinstance(rates, dict) or any(
        key not in API_THROTTLE_SCOPES
        or not (value is None or (isinstance(value, str) and API_RATE_RE.match(value)))
        for key, value in rates.items()
    )
    if not bad:
        return []
    return [
        checks.Error(
            f"SCHEDULER['API_THROTTLE_RATES'] is {rates!r}.",
            id="scheduler_app.E040",
            hint='Use None or e.g. {"read": "1200/minute", "write": "120/minute"}; '
            "a scope set to None is not throttled.",
        )
    ]


def alerts_and_health_messages(s: conf.SchedulerSettings) -> list[checks.CheckMessage]:
    from scheduler_app.monitoring.alerts import config as alert_config

    found: list[checks.CheckMessage] = [
        checks.Error(message, id="scheduler_app.E020", hint=hint)
        for message, hint in alert_config.problems()
    ]
    if not isinstance(s.HEALTH_TOKEN, str):
        found.append(
            checks.Error(
                "SCHEDULER['HEALTH_TOKEN'] must be a string.",
                id="scheduler_app.E021",
                hint="Use a long random string, or '' to allow logged-in users only.",
            )
        )
    return found

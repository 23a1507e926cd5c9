"""Requests per user and scope, at the rates of ``SCHEDULER["API_THROTTLE_RATES"]``."""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.request import Request

from scheduler_app import conf


class ScopedUserThrottle(throttling.SimpleRateThrottle):
    """ "read" for GET/HEAD/OPTIONS, "write" for the rest; keyed by user (or address)."""

    cache_format = "scheduler_api:throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        # The rate is read per request (settings may change in tests), not at class creation.
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
        rates = conf.get().API_THROTTLE_RATES or {}
        self.rate = rates.get(self.scope) if isinstance(rates, dict) else None
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        user = request.user
        ident = f"user-{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

"""``SCHEDULER["ALERTS"]``: which events alert, and through which channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scheduler_app import conf

FAILED = "failed"  # a run failed and no retry is left
STREAK = "streak"  # FAILURE_STREAK consecutive failed runs
OVERDUE = "overdue"  # a task not run within its grace
SILENT = "silent"  # no scheduler pass for longer than WATCHDOG_SILENCE
ABANDONED = "abandoned"  # a run's scheduler died (killed, out of memory, host lost)
KINDS = (FAILED, STREAK, OVERDUE, SILENT, ABANDONED)
EMAIL, WEBHOOK = "email", "webhook"  # the channels

ALERT_DEFAULTS: dict[str, Any] = {
    "EMAIL": False,  # mail the task's owner and the module admins
    "EMAIL_TO": [],  # more addresses; they also get scheduler-wide alerts
    "FROM_EMAIL": None,  # None: DEFAULT_FROM_EMAIL
    "WEBHOOK_URL": "",  # JSON POST target, http or https
    "WEBHOOK_HEADERS": {},  # e.g. {"Authorization": "Bearer ..."}
    "WEBHOOK_TIMEOUT": 5.0,  # seconds per attempt
    "WEBHOOK_RETRIES": 2,  # further attempts (of each channel) after a failed one
    "WEBHOOK_RETRY_DELAY": 1.0,  # seconds before the first retry; doubles with each
    "ON": list(KINDS),  # the events that alert
    "FAILURE_STREAK": 3,  # consecutive failures that make a "streak" alert
    "RATE_LIMIT": 3600,  # seconds: at most one alert per task and kind (0: no limit)
}


@dataclass(frozen=True)
class AlertSettings:
    email: bool = False
    email_to: tuple[str, ...] = ()
    from_email: str | None = None
    webhook_url: str = ""
    webhook_headers: dict[str, str] = field(default_factory=dict)
    webhook_timeout: float = 5.0
    webhook_retries: int = 2
    webhook_retry_delay: float = 1.0
    on: frozenset[str] = frozenset(KINDS)
    failure_streak: int = 3
    rate_limit: float = 3600

    @property
    def enabled(self) -> bool:
        return bool(self.on) and (self.email or bool(self.webhook_url))

    def wants(self, kind: str) -> bool:
        return self.enabled and kind in self.on

    @property
    def channels(self) -> tuple[str, ...]:
        return ((EMAIL,) if self.email else ()) + ((WEBHOOK,) if self.webhook_url else ())

    @property
    def attempts(self) -> int:
        """Attempts per alert and channel before it is given up."""
        return 1 + max(0, self.webhook_retries)


def raw() -> dict[str, Any]:
    value = conf.get().ALERTS
    return dict(value) if isinstance(value, dict) else {}


_cached: tuple[object, AlertSettings] | None = None


def get() -> AlertSettings:
    """The alert settings, defaults filled in; nothing alerts if they are invalid."""
    global _cached
    source = conf.get()  # a new object whenever SCHEDULER changes
    if _cached is None or _cached[0] is not source:
        _cached = (source, _build())
    return _cached[1]


def _build() -> AlertSettings:
    if problems():
        return AlertSettings(on=frozenset())
    merged = {**ALERT_DEFAULTS, **raw()}
    return AlertSettings(
        email=merged["EMAIL"],
        email_to=tuple(merged["EMAIL_TO"]),
        from_email=merged["FROM_EMAIL"],
        webhook_url=merged["WEBHOOK_URL"],
        webhook_headers=dict(merged["WEBHOOK_HEADERS"]),
        webhook_timeout=float(merged["WEBHOOK_TIMEOUT"]),
        webhook_retries=int(merged["WEBHOOK_RETRIES"]),
        webhook_retry_delay=float(merged["WEBHOOK_RETRY_DELAY"]),
        on=frozenset(merged["ON"]),
        failure_streak=int(merged["FAILURE_STREAK"]),
        rate_limit=float(merged["RATE_LIMIT"]),
    )


def url_problem(url: object) -> str:
    """Why ``url`` cannot be a webhook target, or '' if it can."""
    if not isinstance(url, str):
        return f"{url!r} is not a URL."
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url!r} is not a URL."
    if parts.scheme not in ("http", "https"):
        return f"{url!r} does not start with http:// or https://."
    if not parts.hostname:
        return f"{url!r} names no host."
    if any(c.isspace() for c in url):
        return f"{url!r} contains spaces."
    return ""


def _number(value: object, minimum: float, whole: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value >= minimum and (not whole or isinstance(value, int))


def problems() -> list[tuple[str, str]]:
    """(message, hint) for each mistake in ``SCHEDULER["ALERTS"]``."""
    return problems_of(conf.get().ALERTS)


def enabled_in(value: object) -> bool:
    """Whether the ALERTS dict ``value`` turns any alert on (without reading the cached settings)."""
    if not isinstance(value, dict) or not value or problems_of(value):
        return False
    merged = {**ALERT_DEFAULTS, **value}
    return bool(merged["ON"]) and (merged["EMAIL"] is True or bool(merged["WEBHOOK_URL"]))


def problems_of(value: object) -> list[tuple[str, str]]:
    """(message, hint) for each mistake in the ALERTS dict ``value``."""
    if value is None or value == {}:
        return []
    if not isinstance(value, dict):
        return [
            (
                f"SCHEDULER['ALERTS'] must be a dict, not {type(value).__name__}.",
                "ALERTS = {'EMAIL': True, 'WEBHOOK_URL': 'https://...'}",
            )
        ]
    found: list[tuple[str, str]] = []
    for key in sorted(set(value) - set(ALERT_DEFAULTS)):
        found.append(
            (
                f"Unknown SCHEDULER['ALERTS'] key {key!r}.",
                "Known keys: " + ", ".join(sorted(ALERT_DEFAULTS)),
            )
        )
    merged = {**ALERT_DEFAULTS, **value}
    if not isinstance(merged["EMAIL"], bool):
        found.append((f"ALERTS['EMAIL'] is {merged['EMAIL']!r}.", "Use True or False."))
    to = merged["EMAIL_TO"]
    if (
        isinstance(to, str)
        or not isinstance(to, (list, tuple))
        or not all(isinstance(a, str) and "@" in a for a in to)
    ):
        found.append((f"ALERTS['EMAIL_TO'] is {to!r}.", "Use a list of e-mail addresses."))
    if merged["FROM_EMAIL"] is not None and not isinstance(merged["FROM_EMAIL"], str):
        found.append(
            (f"ALERTS['FROM_EMAIL'] is {merged['FROM_EMAIL']!r}.", "Use an address or None.")
        )
    if merged["WEBHOOK_URL"]:
        reason = url_problem(merged["WEBHOOK_URL"])
        if reason:
            found.append((f"ALERTS['WEBHOOK_URL']: {reason}", "Use an http:// or https:// URL."))
    headers = merged["WEBHOOK_HEADERS"]
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        found.append(
            (
                "ALERTS['WEBHOOK_HEADERS'] must map header names to strings.",
                "WEBHOOK_HEADERS = {'Authorization': 'Bearer ...'}",
            )
        )
    for key, minimum, whole in (
        ("WEBHOOK_TIMEOUT", 0.1, False),
        ("WEBHOOK_RETRIES", 0, True),
        ("WEBHOOK_RETRY_DELAY", 0, False),
        ("FAILURE_STREAK", 1, True),
        ("RATE_LIMIT", 0, False),
    ):
        if not _number(merged[key], minimum, whole):
            kind = "a whole number" if whole else "a number"
            found.append(
                (f"ALERTS[{key!r}] is {merged[key]!r}.", f"Use {kind} of at least {minimum}.")
            )
    on = merged["ON"]
    if (
        isinstance(on, str)
        or not isinstance(on, (list, tuple, set, frozenset))
        or not set(on) <= set(KINDS)
    ):
        found.append((f"ALERTS['ON'] is {on!r}.", "Use a list of: " + ", ".join(KINDS) + "."))
    return found

"""The ``SCHEDULER`` settings dict, read lazily into typed settings."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # "process": bodies run in worker processes; "inline": in the scheduler
    # process (no isolation, for tests and tiny sites); "tasks": enqueued on
    # Django's Tasks framework.
    "EXECUTION": "process",
    "WORKERS": 2,
    "LOCK_CACHE": "default",
    "LOCK_PREFIX": "scheduler:lock:",
    "DEFAULT_TIMEOUT": 300,
    "DEFAULT_MAX_RETRIES": 3,
    "RETRY_BACKOFF_BASE": 30,
    "RETRY_BACKOFF_MAX": 3600,
    "RETRY_JITTER": 0.2,
    "LEASE_SECONDS": 120,
    "BATCH_SIZE": 500,
    "LOG_RETENTION_DAYS": 30,
    "OUTPUT_LIMIT": 20000,
    # Characters of a task's config as JSON (services.schedule and update refuse more).
    "MAX_CONFIG_SIZE": 65536,
    # Characters of JSON a run's result may take in its log; a larger result is replaced by a note.
    "RESULT_LIMIT": 100_000,
    "MISFIRE_GRACE": 3600,
    "MISFIRE_RUN_ALL_CAP": 50,
    "LOOP_SLEEP": 5.0,
    # How a sleeping `runscheduler --loop` learns that a task became due: "auto" (LISTEN/NOTIFY
    # on PostgreSQL, a cheap poll elsewhere), "poll" (e.g. behind a transaction-pooling
    # PgBouncer, where LISTEN cannot work), "off" (only every LOOP_SLEEP seconds).
    "WAKE": "auto",
    "TASKS_BACKEND": "default",
    "TASKS_QUEUE": "default",
    "EXPECT_SINGLE_SCHEDULER": False,
    "INTERRUPT_GRACE": 10,
    # Seconds between two writes of a run's progress (context.progress()); calls in between
    # only keep the newest values, written at the next chance or when the run ends.
    "PROGRESS_INTERVAL": 1.0,
    "HEARTBEAT_RETENTION_DAYS": 7,
    # Watchdog: seconds without any scheduler pass before the scheduler counts as silent.
    "WATCHDOG_SILENCE": 300,
    # Seconds a pending task may be late before it counts as overdue (its misfire grace wins).
    "OVERDUE_GRACE": 600,
    # Token for the JSON health endpoint; empty: only users with SA_SCHEDULER_VIEW may read it.
    "HEALTH_TOKEN": "",
    # Alert channels and triggers (scheduler_app.monitoring.alerts.ALERT_DEFAULTS); empty: no alerts.
    "ALERTS": {},
    # Create and update the modules' system tasks after every migrate.
    "SYSTEM_TASKS_ON_MIGRATE": True,
    # Networks (CIDRs) outbound requests may reach although private, loopback or reserved.
    "OUTBOUND_ALLOWED_NETWORKS": [],
    # The proxy of outbound requests: "environment" (HTTP(S)_PROXY / NO_PROXY), None or a URL.
    "OUTBOUND_PROXY": "environment",
    # Input bounds: an uploaded .ics file, the periods of one blackout calendar, an import
    # file of scheduler_import and the tasks plus calendars it may hold.
    "CALENDAR_MAX_BYTES": 5 * 1024 * 1024,
    "CALENDAR_MAX_PERIODS": 5000,
    "IMPORT_MAX_BYTES": 10 * 1024 * 1024,
    "IMPORT_MAX_ENTRIES": 1000,
    # HTTP API (scheduler_app.api): page sizes, the largest request body, throttle rates.
    "API_PAGE_SIZE": 50,
    "API_MAX_PAGE_SIZE": 500,
    "API_MAX_BODY": 262144,
    # Requests per user and scope ("read": GET; "write": the rest); None: not throttled.
    "API_THROTTLE_RATES": {"read": "1200/minute", "write": "120/minute"},
    # Inbound webhooks: seconds a signed timestamp may differ from now (each way), the largest
    # body in bytes, the seconds an old secret still signs after a rotation, and the most
    # delivery-log rows kept (the oldest go first; LOG_RETENTION_DAYS prunes them too).
    "HOOKS_WINDOW": 300,
    "HOOKS_MAX_BODY": 65536,
    "HOOKS_SECRET_OVERLAP": 86400,
    "HOOKS_LOG_MAX": 10000,
    # Approval e-mails: seconds a one-click link stays valid, and the site's address that
    # makes their links absolute (e.g. "https://example.com"; empty: links are relative).
    "APPROVAL_LINK_MAX_AGE": 7 * 24 * 3600,
    "APPROVAL_LINK_BASE_URL": "",
}


@dataclass(frozen=True)
class SchedulerSettings:
    EXECUTION: str
    WORKERS: int
    LOCK_CACHE: str
    LOCK_PREFIX: str
    DEFAULT_TIMEOUT: int
    DEFAULT_MAX_RETRIES: int
    RETRY_BACKOFF_BASE: float
    RETRY_BACKOFF_MAX: float
    RETRY_JITTER: float
    LEASE_SECONDS: int
    BATCH_SIZE: int
    LOG_RETENTION_DAYS: int
    OUTPUT_LIMIT: int
    MAX_CONFIG_SIZE: int
    RESULT_LIMIT: int
    MISFIRE_GRACE: int | None
    MISFIRE_RUN_ALL_CAP: int
    LOOP_SLEEP: float
    WAKE: str
    TASKS_BACKEND: str
    TASKS_QUEUE: str
    EXPECT_SINGLE_SCHEDULER: bool
    INTERRUPT_GRACE: float
    PROGRESS_INTERVAL: float
    HEARTBEAT_RETENTION_DAYS: int
    WATCHDOG_SILENCE: float
    OVERDUE_GRACE: float
    HEALTH_TOKEN: str
    ALERTS: dict
    SYSTEM_TASKS_ON_MIGRATE: bool
    OUTBOUND_ALLOWED_NETWORKS: list
    OUTBOUND_PROXY: str | None
    CALENDAR_MAX_BYTES: int
    CALENDAR_MAX_PERIODS: int
    IMPORT_MAX_BYTES: int
    IMPORT_MAX_ENTRIES: int
    API_PAGE_SIZE: int
    API_MAX_PAGE_SIZE: int
    API_MAX_BODY: int
    API_THROTTLE_RATES: dict
    HOOKS_WINDOW: int
    HOOKS_MAX_BODY: int
    HOOKS_SECRET_OVERLAP: int
    HOOKS_LOG_MAX: int
    APPROVAL_LINK_MAX_AGE: int
    APPROVAL_LINK_BASE_URL: str


_cached: SchedulerSettings | None = None


def user_settings() -> dict[str, Any]:
    """Return the raw ``SCHEDULER`` dict of the project (may be empty)."""
    value = getattr(settings, "SCHEDULER", None) or {}
    return dict(value) if isinstance(value, dict) else {}


def unknown_keys() -> list[str]:
    return sorted(set(user_settings()) - set(DEFAULTS))


def get() -> SchedulerSettings:
    """Return the scheduler settings, defaults filled in."""
    global _cached
    if _cached is None:
        merged = {**DEFAULTS, **user_settings()}
        _cached = SchedulerSettings(**{f.name: merged[f.name] for f in fields(SchedulerSettings)})
    return _cached


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _cached
    if setting == "SCHEDULER":
        _cached = None


setting_changed.connect(_reset)

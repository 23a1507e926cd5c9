"""Checks of the ``SCHEDULER`` settings dict (E010-E016, W001).

The settings that reach outside (alerts, API, outbound) are checked in
:mod:`.integrations`, called from :func:`check_settings`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from scheduler_app import conf
from scheduler_app.checks import integrations

EXECUTION_MODES = ("process", "inline", "tasks")
WAKE_MODES = ("auto", "poll", "off")
# Setting: (smallest value, None allowed).
NUMBERS: dict[str, tuple[float, bool]] = {
    "WORKERS": (0, False),
    "LEASE_SECONDS": (10, False),
    "BATCH_SIZE": (1, False),
    "DEFAULT_TIMEOUT": (1, False),
    "DEFAULT_MAX_RETRIES": (0, False),
    "RETRY_BACKOFF_BASE": (0, False),
    "RETRY_BACKOFF_MAX": (0, False),
    "RETRY_JITTER": (0, False),
    "LOG_RETENTION_DAYS": (0, False),
    "OUTPUT_LIMIT": (0, False),
    "MAX_CONFIG_SIZE": (2, False),
    "RESULT_LIMIT": (1000, False),
    "MISFIRE_GRACE": (0, True),
    "MISFIRE_RUN_ALL_CAP": (1, False),
    "LOOP_SLEEP": (0.01, False),
    "PROGRESS_INTERVAL": (0.05, False),
    "WATCHDOG_SILENCE": (1, False),
    "OVERDUE_GRACE": (0, False),
    "CALENDAR_MAX_BYTES": (1, False),
    "CALENDAR_MAX_PERIODS": (1, False),
    "IMPORT_MAX_BYTES": (1, False),
    "IMPORT_MAX_ENTRIES": (1, False),
    "API_PAGE_SIZE": (1, False),
    "API_MAX_PAGE_SIZE": (1, False),
    "API_MAX_BODY": (1024, False),
}
INTEGERS = {
    "WORKERS",
    "LEASE_SECONDS",
    "BATCH_SIZE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "LOG_RETENTION_DAYS",
    "OUTPUT_LIMIT",
    "MAX_CONFIG_SIZE",
    "RESULT_LIMIT",
    "MISFIRE_GRACE",
    "MISFIRE_RUN_ALL_CAP",
    "CALENDAR_MAX_BYTES",
    "CALENDAR_MAX_PERIODS",
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_ENTRIES",
    "API_PAGE_SIZE",
    "API_MAX_PAGE_SIZE",
    "API_MAX_BODY",
}
TEXTS = ("LOCK_CACHE", "LOCK_PREFIX", "TASKS_BACKEND", "TASKS_QUEUE")


@checks.register("scheduler")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Check the SCHEDULER settings dict."""
    raw = getattr(settings, "SCHEDULER", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return [
            checks.Error(
                f"SCHEDULER must be a dict, not {type(raw).__name__}.",
                id="scheduler_app.E010",
                hint="SCHEDULER = {'WORKERS': 2, ...}",
            )
        ]
    found: list[checks.CheckMessage] = []
    for key in conf.unknown_keys():
        found.append(
            checks.Error(
                f"Unknown SCHEDULER key {key!r}.",
                id="scheduler_app.E011",
                hint="Known keys: " + ", ".join(sorted(conf.DEFAULTS)),
            )
        )
    s = conf.get()
    if s.EXECUTION not in EXECUTION_MODES:
        found.append(
            checks.Error(
                f"SCHEDULER['EXECUTION'] is {s.EXECUTION!r}.",
                id="scheduler_app.E012",
                hint="Use 'process', 'inline' or 'tasks'.",
            )
        )
    for key, (minimum, nullable) in NUMBERS.items():
        value = getattr(s, key)
        if value is None and nullable:
            continue
        whole = key not in INTEGERS or isinstance(value, int)
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not whole
            or value < minimum
        ):
            kind = "a whole number" if key in INTEGERS else "a number"
            found.append(
                checks.Error(
                    f"SCHEDULER[{key!r}] is {value!r}.",
                    id="scheduler_app.E013",
                    hint=f"Use {kind} of at least {minimum}" + (" or None." if nullable else "."),
                )
            )
    if isinstance(s.RETRY_JITTER, (int, float)) and s.RETRY_JITTER > 1:
        found.append(
            checks.Error(
                f"SCHEDULER['RETRY_JITTER'] is {s.RETRY_JITTER!r}.",
                id="scheduler_app.E013",
                hint="Use a fraction from 0 to 1.",
            )
        )
    for key in TEXTS:
        value = getattr(s, key)
        if not isinstance(value, str) or (key != "LOCK_PREFIX" and not value):
            found.append(
                checks.Error(
                    f"SCHEDULER[{key!r}] is {value!r}.",
                    id="scheduler_app.E016",
                    hint="Use a non-empty string.",
                )
            )
    if s.WAKE not in WAKE_MODES:
        found.append(
            checks.Error(
                f"SCHEDULER['WAKE'] is {s.WAKE!r}.",
                id="scheduler_app.E016",
                hint="Use 'auto', 'poll' or 'off'.",
            )
        )
    if not isinstance(s.EXPECT_SINGLE_SCHEDULER, bool):
        found.append(
            checks.Error(
                f"SCHEDULER['EXPECT_SINGLE_SCHEDULER'] is {s.EXPECT_SINGLE_SCHEDULER!r}.",
                id="scheduler_app.E016",
                hint="Use True or False.",
            )
        )
    found.extend(_check_lock_cache(s))
    found.extend(_check_tasks_backend(s))
    found.extend(integrations.alerts_and_health_messages(s))
    found.extend(integrations.outbound_messages(s))
    found.extend(integrations.api_throttle_messages(s.API_THROTTLE_RATES))
    return found


def _check_lock_cache(s: conf.SchedulerSettings) -> list[checks.CheckMessage]:
    if not isinstance(s.LOCK_CACHE, str) or not s.LOCK_CACHE:
        return []  # reported as E016
    caches = getattr(settings, "CACHES", {})
    if s.LOCK_CACHE not in caches:
        return [
            checks.Error(
                f"SCHEDULER['LOCK_CACHE'] names cache {s.LOCK_CACHE!r}, which is not in CACHES.",
                id="scheduler_app.E014",
                hint="Name a cache alias from CACHES (django-redis in production).",
            )
        ]
    if _cache_is_process_local(caches[s.LOCK_CACHE]) and s.EXPECT_SINGLE_SCHEDULER is not True:
        return [
            checks.Warning(
                f"The lock cache {s.LOCK_CACHE!r} is local to one process, so overlap locks are not "
                "shared between scheduler processes.",
                id="scheduler_app.W001",
                hint="Use django-redis for SCHEDULER['LOCK_CACHE'] when more than one scheduler may "
                "run (the database lease still prevents duplicate runs), or set "
                "SCHEDULER['EXPECT_SINGLE_SCHEDULER'] = True.",
            )
        ]
    return []


def _check_tasks_backend(s: conf.SchedulerSettings) -> list[checks.CheckMessage]:
    if s.EXECUTION != "tasks" or not isinstance(s.TASKS_BACKEND, str):
        return []
    backends = getattr(settings, "TASKS", None) or {"default": {}}
    if s.TASKS_BACKEND not in backends:
        return [
            checks.Error(
                f"SCHEDULER['TASKS_BACKEND'] names {s.TASKS_BACKEND!r}, which is not in TASKS.",
                id="scheduler_app.E015",
                hint="Name a backend alias from the TASKS setting.",
            )
        ]
    return []


def _cache_is_process_local(cache: dict[str, Any]) -> bool:
    backend = str(cache.get("BACKEND", ""))
    return backend.endswith(("LocMemCache", "DummyCache"))

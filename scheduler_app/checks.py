"""System checks: ``scheduler_app.E0xx`` errors and ``W0xx`` warnings, each with a hint.

E001 duplicate module id      E002 bad module id          E003 bad permission name
E004 no base permission       E005 bad task type key      E006 not a SchedulableTask
E007 execute() missing        E008 config_form not a form E009 task_types not a dict
E010 SCHEDULER not a dict     E011 unknown SCHEDULER key  E012 bad EXECUTION
E013 bad number setting       E014 LOCK_CACHE not a cache E015 TASKS_BACKEND not in TASKS
E016 bad text/flag setting
W001 process-local lock cache W002 provider without task types
W003 admin without scheduler_app.urls (in url_checks.py)
E020 bad SCHEDULER["ALERTS"]  E021 HEALTH_TOKEN not a string
E040 bad API_THROTTLE_RATES
W020 scheduler silent         W021 tasks overdue  W022 stored cron refused (``cron_check``)
(W020-W022: ``check --database default`` only)
E030 bad OUTBOUND_ALLOWED_NETWORKS                W030 alert webhook at a refused address
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core import checks

from scheduler_app import conf
from scheduler_app.providers import SchedulableTask
from scheduler_app.registry import ProviderRegistry, registry

MODULE_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TASK_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Django stores codenames in 100 characters (the admin twin, SA_<NAME>_ADMIN, too).
PERMISSION_RE = re.compile(r"^(SA_[A-Z0-9_]{1,97}|[a-z_][a-z0-9_]*\.[A-Za-z0-9_]{1,100})$")
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
def check_providers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Check every registered provider and its task types."""
    return provider_messages(registry)


def provider_messages(reg: ProviderRegistry) -> list[checks.CheckMessage]:
    """The check messages for the providers of ``reg``."""
    errors: list[checks.CheckMessage] = []
    for provider, message in reg.conflicts:
        errors.append(
            checks.Error(
                message,
                obj=provider,
                id="scheduler_app.E001",
                hint="Give each TaskProvider a unique module_id (it is stored in the database).",
            )
        )
    for provider in reg.providers():
        errors.extend(_check_provider(provider))
    return errors


def _check_provider(provider: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    module_id = provider.module_id
    if not (isinstance(module_id, str) and MODULE_ID_RE.match(module_id)):
        errors.append(
            checks.Error(
                f"Module id {module_id!r} of {provider.__qualname__} is not valid.",
                obj=provider,
                id="scheduler_app.E002",
                hint="Use 1-64 lowercase letters, digits and underscores, starting with a letter.",
            )
        )
    if not provider.base_permission:
        errors.append(
            checks.Error(
                f"Provider '{module_id}' has no base_permission.",
                obj=provider,
                id="scheduler_app.E004",
                hint="Set base_permission = 'SA_<MODULE>'.",
            )
        )
    else:
        for perm in _permissions_of(provider):
            if not (isinstance(perm, str) and PERMISSION_RE.match(perm)):
                errors.append(
                    checks.Error(
                        f"Permission {perm!r} of provider '{module_id}' is not valid.",
                        obj=provider,
                        id="scheduler_app.E003",
                        hint="Use SA_<NAME> in capitals, at most 94 characters so that "
                        "SA_<NAME>_ADMIN fits (e.g. SA_REPORTS), or an existing "
                        "'app_label.codename'.",
                    )
                )
    task_types = provider.task_types
    if not isinstance(task_types, dict):
        errors.append(
            checks.Error(
                f"task_types of provider '{module_id}' is {type(task_types).__name__}, not a dict.",
                obj=provider,
                id="scheduler_app.E009",
                hint="task_types = {'key': SchedulableTaskSubclass, ...}",
            )
        )
        return errors
    if not task_types:
        errors.append(
            checks.Warning(
                f"Provider '{module_id}' offers no task types.",
                obj=provider,
                id="scheduler_app.W002",
                hint="Fill task_types with SchedulableTask subclasses.",
            )
        )
    for key, task_cls in task_types.items():
        errors.extend(_check_task_type(provider, key, task_cls))
    return errors


def _permissions_of(provider: Any) -> list[object]:
    perms: list[object] = [provider.base_permission]
    try:
        perms.append(provider.admin_permission_name())
    except Exception:  # noqa: BLE001 - a broken name is reported as such
        perms.append(provider.admin_permission)
    return list(dict.fromkeys(perms))


def _check_task_type(provider: Any, key: Any, task_cls: Any) -> list[checks.CheckMessage]:
    label = f"{provider.module_id}.{key}"
    if not (isinstance(key, str) and TASK_KEY_RE.match(key)):
        return [
            checks.Error(
                f"Task type key {key!r} of '{provider.module_id}' is not valid.",
                obj=provider,
                id="scheduler_app.E005",
                hint="Use 1-64 lowercase letters, digits and underscores, starting with a letter.",
            )
        ]
    if not (isinstance(task_cls, type) and issubclass(task_cls, SchedulableTask)):
        return [
            checks.Error(
                f"Task type '{label}' is {task_cls!r}, not a SchedulableTask subclass.",
                obj=provider,
                id="scheduler_app.E006",
                hint="Subclass scheduler_app.SchedulableTask and implement execute().",
            )
        ]
    found: list[checks.CheckMessage] = []
    if getattr(task_cls, "__abstractmethods__", None) or not callable(
        getattr(task_cls, "execute", None)
    ):
        found.append(
            checks.Error(
                f"Task type '{label}' does not implement execute(context).",
                obj=task_cls,
                id="scheduler_app.E007",
                hint="Define execute(self, context) returning a TaskResult.",
            )
        )
    form = getattr(task_cls, "config_form", None)
    if not (isinstance(form, type) and issubclass(form, forms.BaseForm)):
        found.append(
            checks.Error(
                f"config_form of '{label}' is {form!r}, not a Django form class.",
                obj=task_cls,
                id="scheduler_app.E008",
                hint="Set config_form to a django.forms.Form subclass (the class, "
                "not an instance).",
            )
        )
    return found


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
    found.extend(_check_alerts_and_health(s))
    found.extend(_check_outbound(s))
    found.extend(_check_api_throttle_rates(s.API_THROTTLE_RATES))
    return found


def _check_outbound(s: conf.SchedulerSettings) -> list[checks.CheckMessage]:
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


def _check_api_throttle_rates(rates: Any) -> list[checks.CheckMessage]:
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


def _check_alerts_and_health(s: conf.SchedulerSettings) -> list[checks.CheckMessage]:
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


@checks.register(checks.Tags.database, "scheduler_watchdog")
def check_watchdog(
    app_configs: Any = None,
    databases: Any = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """A silent scheduler (W020) and overdue tasks (W021).

    Reads the database, so only when asked to (``check --database default``,
    ``migrate``), never on the start-up of every command.
    """
    if not databases:
        return []
    from django.db import DatabaseError

    from scheduler_app.monitoring import watchdog

    try:
        status = watchdog.status()
    except DatabaseError:
        return []  # not migrated yet: nothing to watch
    found: list[checks.CheckMessage] = []
    if status.silent:
        found.append(
            checks.Warning(
                status.silence_line(),
                id="scheduler_app.W020",
                hint="Start the scheduler (runscheduler --loop, or runscheduler from cron every "
                "minute) or raise SCHEDULER['WATCHDOG_SILENCE'] if passes are rarer on purpose.",
            )
        )
    if status.overdue:
        found.append(
            checks.Warning(
                status.overdue_line(),
                id="scheduler_app.W021",
                hint="See the scheduler dashboard in the admin; a task is overdue when it is pending "
                "longer than its misfire grace or SCHEDULER['OVERDUE_GRACE'] after its run time.",
            )
        )
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

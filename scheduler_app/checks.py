"""System checks: ``scheduler_app.E0xx`` errors and ``W0xx`` warnings, each with a hint."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core import checks

from scheduler_app import conf
from scheduler_app.providers import SchedulableTask
from scheduler_app.registry import registry

MODULE_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TASK_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PERMISSION_RE = re.compile(r"^(SA_[A-Z0-9_]{1,96}|[a-z_][a-z0-9_]*\.[A-Za-z0-9_]{1,100})$")
EXECUTION_MODES = ("process", "inline", "tasks")


@checks.register("scheduler")
def check_providers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for provider, message in registry.conflicts:
        errors.append(checks.Error(
            message, obj=provider, id="scheduler_app.E001",
            hint="Give each TaskProvider a unique module_id (it is stored in the database).",
        ))
    for provider in registry.providers():
        if not MODULE_ID_RE.match(provider.module_id or ""):
            errors.append(checks.Error(
                f"Module id {provider.module_id!r} of {provider.__qualname__} is not valid.",
                obj=provider, id="scheduler_app.E002",
                hint="Use lowercase letters, digits and underscores, starting with a letter.",
            ))
        for perm in filter(None, [provider.base_permission, provider.admin_permission]):
            if not PERMISSION_RE.match(perm):
                errors.append(checks.Error(
                    f"Permission {perm!r} of provider '{provider.module_id}' is not valid.",
                    obj=provider, id="scheduler_app.E003",
                    hint="Use SA_<NAME> in capitals (e.g. SA_REPORTS) or an existing "
                         "'app_label.codename'.",
                ))
        if not provider.base_permission:
            errors.append(checks.Error(
                f"Provider '{provider.module_id}' has no base_permission.", obj=provider,
                id="scheduler_app.E004", hint="Set base_permission = 'SA_<MODULE>'.",
            ))
        if not provider.task_types:
            errors.append(checks.Warning(
                f"Provider '{provider.module_id}' offers no task types.", obj=provider,
                id="scheduler_app.W002", hint="Fill task_types with SchedulableTask subclasses.",
            ))
        for key, task_cls in provider.task_types.items():
            errors.extend(_check_task_type(provider, key, task_cls))
    return errors


def _check_task_type(provider: Any, key: str, task_cls: Any) -> list[checks.CheckMessage]:
    label = f"{provider.module_id}.{key}"
    if not TASK_KEY_RE.match(str(key)):
        return [checks.Error(f"Task type key {key!r} of '{provider.module_id}' is not valid.",
                             obj=provider, id="scheduler_app.E005",
                             hint="Use lowercase letters, digits and underscores.")]
    if not (isinstance(task_cls, type) and issubclass(task_cls, SchedulableTask)):
        return [checks.Error(f"Task type '{label}' is {task_cls!r}, not a SchedulableTask subclass.",
                             obj=provider, id="scheduler_app.E006",
                             hint="Subclass scheduler_app.SchedulableTask and implement execute().")]
    found = []
    if getattr(task_cls, "__abstractmethods__", None):
        found.append(checks.Error(f"Task type '{label}' does not implement execute(context).",
                                  obj=task_cls, id="scheduler_app.E007",
                                  hint="Define execute(self, context) returning a TaskResult."))
    form = getattr(task_cls, "config_form", None)
    if not (isinstance(form, type) and issubclass(form, forms.BaseForm)):
        found.append(checks.Error(f"config_form of '{label}' is not a Django form class.",
                                  obj=task_cls, id="scheduler_app.E008",
                                  hint="Set config_form to a django.forms.Form subclass."))
    return found


@checks.register("scheduler")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    raw = getattr(settings, "SCHEDULER", {}) or {}
    if not isinstance(raw, dict):
        return [checks.Error("SCHEDULER must be a dict.", id="scheduler_app.E010",
                             hint="SCHEDULER = {'WORKERS': 2, ...}")]
    for key in conf.unknown_keys():
        found.append(checks.Error(f"Unknown SCHEDULER key {key!r}.", id="scheduler_app.E011",
                                  hint="Known keys: " + ", ".join(sorted(conf.DEFAULTS))))
    if found:
        return found
    s = conf.get()
    if s.EXECUTION not in EXECUTION_MODES:
        found.append(checks.Error(f"SCHEDULER['EXECUTION'] is {s.EXECUTION!r}.", id="scheduler_app.E012",
                                  hint="Use 'process', 'inline' or 'tasks'."))
    positive = {"WORKERS": 0, "LEASE_SECONDS": 10, "BATCH_SIZE": 1, "DEFAULT_TIMEOUT": 1,
                "OUTPUT_LIMIT": 0, "RETRY_BACKOFF_BASE": 0, "RETRY_BACKOFF_MAX": 0}
    for key, minimum in positive.items():
        value = getattr(s, key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < minimum:
            found.append(checks.Error(f"SCHEDULER[{key!r}] is {value!r}.", id="scheduler_app.E013",
                                      hint=f"Use a number of at least {minimum}."))
    if s.LOCK_CACHE not in settings.CACHES:
        found.append(checks.Error(f"SCHEDULER['LOCK_CACHE'] names cache {s.LOCK_CACHE!r}, which is "
                                  "not in CACHES.", id="scheduler_app.E014",
                                  hint="Name a cache alias from CACHES (django-redis in production)."))
    elif _cache_is_process_local(settings.CACHES[s.LOCK_CACHE]) and not s.EXPECT_SINGLE_SCHEDULER:
        found.append(checks.Warning(
            f"The lock cache {s.LOCK_CACHE!r} is local to one process, so overlap locks are not "
            "shared between scheduler processes.", id="scheduler_app.W001",
            hint="Use django-redis for SCHEDULER['LOCK_CACHE'] when more than one scheduler may "
                 "run (the database lease still prevents duplicate runs), or set "
                 "SCHEDULER['EXPECT_SINGLE_SCHEDULER'] = True.",
        ))
    return found


def _cache_is_process_local(cache: dict[str, Any]) -> bool:
    backend = cache.get("BACKEND", "")
    return backend.endswith(("LocMemCache", "DummyCache"))

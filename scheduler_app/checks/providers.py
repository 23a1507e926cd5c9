"""Checks of the registered providers and their task types (E001-E009, W002)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core import checks

from scheduler_app.providers import SchedulableTask
from scheduler_app.registry import ProviderRegistry, registry

MODULE_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TASK_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Django stores codenames in 100 characters (the admin twin, SA_<NAME>_ADMIN, too).
PERMISSION_RE = re.compile(r"^(SA_[A-Z0-9_]{1,97}|[a-z_][a-z0-9_]*\.[A-Za-z0-9_]{1,100})$")


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

"""“Schedule a task”: the task types the user may schedule, grouped by module, each with the
link to its form. The admin's add page shows them instead of fourteen "+ type" buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from scheduler_app import policy
from scheduler_app.presentation.links import schedule_url
from scheduler_app.registry import registry


@dataclass(frozen=True)
class Choice:
    key: str
    name: str
    description: str
    url: str


def schedulable_types(request: HttpRequest) -> list[tuple[Any, list[Choice]]]:
    """[(provider, [Choice, ...]), ...] in module order; modules with no choice are left out."""
    user = request.user
    modules = set(policy.schedulable_modules(user))
    found = []
    for provider in registry.providers():
        if provider.module_id not in modules:
            continue
        choices = [
            Choice(key, str(cls.name or key), str(cls.description), url)
            for key, cls in sorted(provider.task_types.items(), key=lambda kv: str(kv[1].name))
            if policy.can_schedule(user, provider.module_id, key)
            and (url := schedule_url(provider.module_id, key))
        ]
        if choices:
            found.append((provider, choices))
    return found

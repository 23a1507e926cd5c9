"""The provider registry and the ``@register`` decorator.

Reads like Django's admin site: a plain dict keyed by module id, with
register / unregister / is_registered / get. Registration never raises for a
bad provider at import time; problems are kept and reported by the system
checks (``scheduler_app.E00x``) so one broken module cannot stop start-up.
"""

from __future__ import annotations

from typing import TypeVar

from scheduler_app.exceptions import AlreadyRegistered, NotRegistered
from scheduler_app.providers import SchedulableTask, TaskProvider

P = TypeVar("P", bound=type[TaskProvider])


class ProviderRegistry:
    """Providers by module id, plus the registrations refused for a clash of ids."""

    def __init__(self) -> None:
        self._registry: dict[str, type[TaskProvider]] = {}
        # (provider class, problem) pairs found at registration; see checks.
        self.conflicts: list[tuple[type[TaskProvider], str]] = []

    def register(self, provider: type[TaskProvider], *, strict: bool = False) -> type[TaskProvider]:
        """Add ``provider``; a duplicate module id is kept as a conflict (or raised if strict)."""
        module_id = provider.module_id
        existing = self._registry.get(module_id)
        if existing is not None and existing is not provider:
            message = (
                f"Module id '{module_id}' of {provider.__module__}.{provider.__qualname__} is "
                f"already registered by {existing.__module__}.{existing.__qualname__}."
            )
            if strict:
                raise AlreadyRegistered(message)
            if (provider, message) not in self.conflicts:
                self.conflicts.append((provider, message))
            return provider
        self._registry[module_id] = provider
        return provider

    def unregister(self, module_id: str) -> None:
        """Remove the provider of ``module_id`` (and the clashes it caused)."""
        if module_id not in self._registry:
            raise NotRegistered(
                f"No provider is registered for module '{module_id}' "
                f"(known: {self.known_modules_text()})."
            )
        del self._registry[module_id]
        self.conflicts = [(p, m) for p, m in self.conflicts if p.module_id != module_id]

    def is_registered(self, module_id: str) -> bool:
        return module_id in self._registry

    def get(self, module_id: str) -> type[TaskProvider]:
        try:
            return self._registry[module_id]
        except KeyError:
            raise NotRegistered(
                f"Unknown module '{module_id}' (known: {self.known_modules_text()})."
            ) from None

    def get_task_type(self, module_id: str, task_type: str) -> type[SchedulableTask]:
        return self.get(module_id).get_task_type(task_type)

    def resolve(self, key: str) -> type[SchedulableTask]:
        """Return the task type addressed as ``module.task_type``."""
        module_id, dot, task_type = str(key).partition(".")
        if not dot:
            raise NotRegistered(
                f"'{key}' is not a task type key; use 'module.task_type' "
                f"(known: {', '.join(self.task_type_keys()) or 'none registered'})."
            )
        return self.get_task_type(module_id, task_type)

    def providers(self) -> list[type[TaskProvider]]:
        """The registered providers, by module id."""
        return [self._registry[k] for k in sorted(self._registry, key=str)]

    def task_type_keys(self) -> list[str]:
        return [
            f"{p.module_id}.{k}"
            for p in self.providers()
            for k in sorted(p.task_types if isinstance(p.task_types, dict) else {}, key=str)
        ]

    def known_modules_text(self) -> str:
        return ", ".join(sorted(map(str, self._registry))) or "none registered"

    def autodiscover(self) -> None:
        """Import ``scheduler_tasks`` of every installed app, as the admin does with ``admin``."""
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("scheduler_tasks", register_to=self)

    def clear(self) -> None:
        self._registry.clear()
        self.conflicts.clear()


#: The registry of the installed app; ``SchedulerConfig.registry`` points here.
registry = ProviderRegistry()


def register(provider: P) -> P:
    """Class decorator: register a TaskProvider subclass with the registry."""
    if not (isinstance(provider, type) and issubclass(provider, TaskProvider)):
        raise TypeError(f"@register expects a TaskProvider subclass, got {provider!r}.")
    registry.register(provider)
    return provider

"""Changelist filters whose choices cost no query or one bounded query."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scheduler_app.registry import registry

TAG_SAMPLE = 500


class ModuleFilter(admin.SimpleListFilter):
    """By module, from the provider registry (no query)."""

    title = _("module")
    parameter_name = "module"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(p.module_id, str(p.verbose_name())) for p in registry.providers()]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(module_id=self.value()) if self.value() else queryset


class TaskTypeFilter(admin.SimpleListFilter):
    """By task type, from the registry; narrowed to the chosen module."""

    title = _("task type")
    parameter_name = "task_type"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        module = request.GET.get(ModuleFilter.parameter_name)
        return [
            (f"{p.module_id}.{key}", f"{p.verbose_name()}: {cls.name or key}")
            for p in registry.providers() if not module or p.module_id == module
            for key, cls in sorted(p.task_types.items())
        ]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if not self.value():
            return queryset
        module_id, _sep, task_type = self.value().partition(".")
        return queryset.filter(module_id=module_id, task_type=task_type)


class TagFilter(admin.SimpleListFilter):
    """By tag; the choices come from one bounded query over distinct tag lists."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        lists = (model_admin.get_queryset(request).exclude(tags=[]).order_by()
                 .values_list("tags", flat=True).distinct()[:TAG_SAMPLE])
        tags = sorted({str(tag) for tag_list in lists if isinstance(tag_list, list) for tag in tag_list})
        return [(tag, tag) for tag in tags]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.with_tag(self.value()) if self.value() else queryset

"""Changelist filters whose choices cost no query or one bounded query."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scheduler_app import policy
from scheduler_app.registry import registry

#: Tag choices come from the tag lists of this many most recent tasks (read by primary key).
TAG_SAMPLE = 1000
OWNER_CHOICES = 200
#: Module and task type pairs read from the user's own and shared tasks, at most.
FILTER_TYPES = 500


def visible_types(request: Any, model_admin: Any) -> dict[str, set[str] | None] | None:
    """The modules (and their task types) whose tasks the user may see: None for all of them,
    else {module_id: None (every type) or the types of the user's own and shared tasks}.

    Modules whose base or admin permission the user holds cost no query; own and shared
    tasks elsewhere cost one. Cached on the request: both filters ask.
    """
    if hasattr(request, "_scheduler_visible_types"):
        cached: dict[str, set[str] | None] | None = request._scheduler_visible_types
        return cached
    user = request.user
    found: dict[str, set[str] | None] | None
    if policy.can_view_all(user):
        found = None
    else:
        found = {
            p.module_id: None
            for p in registry.providers()
            if policy.is_module_user(user, p.module_id) or policy.is_module_admin(user, p.module_id)
        }
        elsewhere = (
            model_admin.get_queryset(request)
            .exclude(module_id__in=list(found))
            .order_by()
            .values_list("module_id", "task_type")
            .distinct()[:FILTER_TYPES]
        )
        for module_id, task_type in elsewhere:
            types = found.setdefault(module_id, set())
            if types is not None:
                types.add(task_type)
    request._scheduler_visible_types = found
    return found


class ModuleFilter(admin.SimpleListFilter):
    """By module: those whose tasks the user may see (from the registry, at most one query)."""

    title = _("module")
    parameter_name = "module"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        visible = visible_types(request, model_admin)
        return [
            (p.module_id, str(p.verbose_name()))
            for p in registry.providers()
            if visible is None or p.module_id in visible
        ]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(module_id=self.value()) if self.value() else queryset


class TaskTypeFilter(admin.SimpleListFilter):
    """By task type, from the registry; narrowed to the chosen module."""

    title = _("task type")
    parameter_name = "task_type"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        module = request.GET.get(ModuleFilter.parameter_name)
        visible = visible_types(request, model_admin)
        return [
            (f"{p.module_id}.{key}", f"{p.verbose_name()}: {cls.name or key}")
            for p in registry.providers()
            if (not module or p.module_id == module) and (visible is None or p.module_id in visible)
            for key, cls in sorted(p.task_types.items())
            if visible is None or key in (visible[p.module_id] or p.task_types)
        ]

    def queryset(self, request: Any, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        module_id, _sep, task_type = value.partition(".")
        return queryset.filter(module_id=module_id, task_type=task_type)


class OwnerFilter(admin.SimpleListFilter):
    """By owner: users owning at least one visible task, probed through the owner index."""

    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        from django.contrib.auth import get_user_model
        from django.db.models import Exists, OuterRef

        User = get_user_model()
        owns = model_admin.get_queryset(request).filter(owner=OuterRef("pk"))
        users = (
            User.objects.filter(Exists(owns))
            .order_by(User.USERNAME_FIELD)
            .only("pk", User.USERNAME_FIELD)[:OWNER_CHOICES]
        )
        return [(str(u.pk), u.get_username()) for u in users]

    def queryset(self, request: Any, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(owner_id=int(value))
        except ValueError:
            return queryset.none()


class TagFilter(admin.SimpleListFilter):
    """By tag; the choices come from the most recent tasks (one query, bounded rows)."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        lists = (
            model_admin.get_queryset(request)
            .order_by("-pk")
            .values_list("tags", flat=True)[:TAG_SAMPLE]
        )
        tags = {str(tag) for tag_list in lists if isinstance(tag_list, list) for tag in tag_list}
        if value := self.value():
            tags.add(value)
        return [(tag, tag) for tag in sorted(tags)]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.with_tag(self.value()) if self.value() else queryset

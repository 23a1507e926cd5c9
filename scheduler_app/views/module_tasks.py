"""A module's own page of its scheduled tasks: a view modules subclass."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.views.generic import TemplateView

from scheduler_app import policy
from scheduler_app.registry import registry


class ModuleTasksView(LoginRequiredMixin, TemplateView):
    """The module's tasks the user may see, and the task types they may schedule.

    Subclasses set ``module_id``, ``template_name``, ``title`` and
    ``denied_message``; the template gets ``title``, ``tasks`` (at most
    ``limit``, soonest first) and ``task_types`` (``(key, class)`` pairs).
    """

    module_id = ""
    title: Any = ""
    denied_message: Any = ""
    limit = 200

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        user = request.user
        if user.is_authenticated and not (
            policy.is_module_user(user, self.module_id)
            or policy.is_module_admin(user, self.module_id)
        ):
            raise PermissionDenied(self.denied_message)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        provider = registry.get(self.module_id)
        tasks = (
            policy.viewable_queryset(user)
            .filter(module_id=self.module_id)
            .select_related("owner")
            .order_by("next_run", "pk")[: self.limit]
        )
        task_types = [
            (key, cls)
            for key, cls in sorted(provider.task_types.items())
            if policy.can_schedule(user, self.module_id, key)
        ]
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "tasks": tasks,
            "task_types": task_types,
        }

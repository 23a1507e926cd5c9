"""modules/: the task types the caller may schedule, each config form as JSON Schema."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import policy
from scheduler_app.api.formschema import config_schema
from scheduler_app.api.views.base import BaseApiView, documented
from scheduler_app.registry import registry

TASK_TYPE = inline_serializer(
    "TaskType",
    fields={
        "key": serializers.CharField(help_text="module.task_type"),
        "task_type": serializers.CharField(),
        "name": serializers.CharField(),
        "description": serializers.CharField(),
        "config_schema": serializers.JSONField(help_text="JSON Schema of the config form."),
        "secret_fields": serializers.ListField(child=serializers.CharField()),
    },
)
MODULE = inline_serializer(
    "Module",
    fields={
        "module": serializers.CharField(),
        "name": serializers.CharField(),
        "task_types": TASK_TYPE.__class__(many=True),
    },
)


class ModulesView(BaseApiView):
    @documented(responses=MODULE.__class__(many=True))
    def get(self, request: Request) -> Response:
        """Modules and task types you may schedule, with their config forms as JSON Schema."""
        found = []
        for provider in registry.providers():
            if not policy.can_schedule(request.user, provider.module_id):
                continue
            types = [
                {
                    "key": f"{provider.module_id}.{key}",
                    "task_type": key,
                    "name": str(task_cls.name or key),
                    "description": str(task_cls.description or ""),
                    "config_schema": config_schema(task_cls),
                    "secret_fields": list(task_cls.secret_fields or ()),
                }
                for key, task_cls in sorted(provider.task_types.items())
                if policy.can_schedule(request.user, provider.module_id, key)
            ]
            if types:
                found.append(
                    {
                        "module": provider.module_id,
                        "name": str(provider.verbose_name()),
                        "task_types": types,
                    }
                )
        return Response(found)

"""OpenAPI descriptions of the API's authentication and shared enums (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

#: One name per choice set, so the schema's enums read like the models' choices.
ENUM_NAME_OVERRIDES = {
    "TaskStatusEnum": "scheduler_app.models.choices.TaskStatus",
    "RunStatusEnum": "scheduler_app.models.choices.RunStatus",
    "ScheduleTypeEnum": "scheduler_app.models.choices.ScheduleType",
    "MisfirePolicyEnum": "scheduler_app.models.choices.MisfirePolicy",
    "IntervalUnitEnum": "scheduler_app.models.choices.IntervalUnit",
    "ApprovalStatusEnum": "scheduler_app.models.approvals.ApprovalStatus",
    "DecisionRefusalEnum": ["decided", "expired"],
}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "scheduler_app.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <secret>` (made in the admin or with `manage.py scheduler_token`).",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "scheduler_app.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The admin's session; writes need the CSRF token (X-CSRFToken).",
        }

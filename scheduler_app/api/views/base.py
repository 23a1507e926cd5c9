"""What every API view shares: authentication, permission, throttling, parsing, errors, schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import renderers
from rest_framework.views import APIView

from scheduler_app.api import errors, schema, serializers  # noqa: F401 - schema registers extensions
from scheduler_app.api.authentication import SessionAuthentication, TokenAuthentication
from scheduler_app.api.pagination import BoundedPageNumberPagination
from scheduler_app.api.parsers import BoundedJSONParser
from scheduler_app.api.permissions import ActiveUser
from scheduler_app.api.throttling import ScopedUserThrottle
from scheduler_app.models import AuditSource
from scheduler_app.services import audit

#: Answers any operation may give, besides its own (documented for every operation).
ERROR_RESPONSES = {
    "400": ("Bad input: the fields at fault in “errors”.", serializers.ValidationErrorSerializer),
    "401": ("No credentials, or a token that is not valid.", serializers.ErrorSerializer),
    "403": ("Not allowed; “detail” says why.", serializers.ErrorSerializer),
    "404": ("No such object that you may see.", serializers.ErrorSerializer),
    "406": ("Cannot answer in the requested format.", serializers.ErrorSerializer),
    "413": ("The body is larger than SCHEDULER['API_MAX_BODY'].", serializers.ErrorSerializer),
    "415": ("Send JSON (Content-Type: application/json).", serializers.ErrorSerializer),
    "429": ("Too many requests; see Retry-After.", serializers.ErrorSerializer),
}


class SchedulerSchema(AutoSchema):
    """drf-spectacular's schema, with the error answers every operation may give."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, (description, serializer) in ERROR_RESPONSES.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code)
                responses[code]["description"] = description
        return responses


def documented(**kwargs: Any) -> Any:
    """``extend_schema`` on our schema class (not the project's DEFAULT_SCHEMA_CLASS)."""

    def decorator(function: Any) -> Any:
        function.schema = SchedulerSchema
        return extend_schema(**kwargs)(function)

    return decorator


class ApiMixin:
    """Set on every view, so the API does not depend on the project's REST_FRAMEWORK setting."""

    authentication_classes = (TokenAuthentication, SessionAuthentication)
    permission_classes = (ActiveUser,)
    throttle_classes = (ScopedUserThrottle,)
    parser_classes = (BoundedJSONParser,)
    renderer_classes = (renderers.JSONRenderer, renderers.BrowsableAPIRenderer)
    pagination_class: Any = BoundedPageNumberPagination
    schema = SchedulerSchema()
    #: Service error keys renamed to this view's field names.
    error_rename: dict[str, str] = {}

    def get_exception_handler(self) -> Any:
        return errors.handle

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with audit.acting_from(AuditSource.API):  # what a request changes is "from the API"
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class BaseApiView(ApiMixin, APIView):
    """A view of one resource (not a paginated list)."""

    pagination_class = None


def not_found(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Any other path under the API: a JSON 404, not the site's HTML page."""
    from django.http import JsonResponse

    return JsonResponse({"detail": "Not found."}, status=404)

"""Every error as JSON: ``{"detail": ...}``, plus ``"errors"`` (field -> messages) on a 400.

Service exceptions become HTTP answers here, so views just call the services:
ValidationError -> 400, PermissionDenied -> 403 with the service's reason,
a task the user may not see -> 404, a duplicate schedule -> 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scheduler_app.quoting import bound_message, clip_inputs, long_inputs
from scheduler_app.services import DuplicateTask

#: Messages of one field shown at most (each bounded by scheduler_app.quoting).
MAX_MESSAGES = 10
NON_FIELD = "non_field_errors"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with an existing task."
    default_code = "conflict"


def _short(message: Any, given: set[str] | frozenset[str] = frozenset()) -> str:
    """``message`` bounded: the request's input it repeats quoted at most QUOTE_LIMIT long."""
    return bound_message(clip_inputs(str(message), given))


def _given(context: dict[str, Any]) -> set[str]:
    request = context.get("request")
    return request_inputs(request) if request is not None else set()


def request_inputs(request: Any) -> set[str]:
    """The long pieces of text of the request (body and query), which messages may repeat."""
    query = dict(request.query_params.lists())
    try:
        body = request.data
    except Exception:  # noqa: BLE001 - a body that cannot be parsed is what is reported
        body = None
    return long_inputs(query, body if isinstance(body, (dict, list)) else None)


def field_errors(
    error: DjangoValidationError,
    rename: dict[str, str] | None = None,
    given: set[str] | frozenset[str] = frozenset(),
) -> dict:
    """A Django ValidationError as {field: [messages]}; ``rename`` maps service keys to API ones."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        raw = {key: list(messages) for key, messages in error.error_dict.items()}
    else:
        raw = {NON_FIELD: [error]}
    found: dict[str, list[str]] = {}
    for key, errors in raw.items():
        name = NON_FIELD if key == "__all__" else rename.get(key, key)
        messages = [m for e in errors for m in getattr(e, "messages", [e])]
        found.setdefault(name, []).extend(_short(m, given) for m in messages[:MAX_MESSAGES])
    return found


def _flatten(
    detail: Any, prefix: str = "", given: set[str] | frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """DRF's nested error detail as flat {"field" or "field.sub" or "field.0": [messages]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = NON_FIELD if key in ("non_field_errors", "__all__") and not prefix else str(key)
            # A key of the body may itself be long input (an unknown field's name).
            name = _short(name, given)
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name, given))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index), given))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD: [_short(item, given) for item in items[:MAX_MESSAGES]]}


def invalid(errors: dict[str, list[str]]) -> Response:
    return Response(
        {"detail": _("Check the fields named in “errors”."), "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The exception handler of every API view."""
    given = _given(context)
    if isinstance(exc, DuplicateTask):
        existing = exc.existing
        return Response(
            {
                "detail": _short(exc.messages[0], given),
                "existing": {"id": existing.pk, "name": existing.name},
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        rename = getattr(context.get("view"), "error_rename", None)
        return invalid(field_errors(exc, rename, given))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(_short(str(exc) or _("You may not do this."), given))
    elif isinstance(exc, (ObjectDoesNotExist, Http404)):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, RequestDataTooBig):  # over Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge()
    if isinstance(exc, exceptions.ValidationError):
        return invalid(_flatten(exc.detail, given=given))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": _short(response.data["detail"], given)}
    return response

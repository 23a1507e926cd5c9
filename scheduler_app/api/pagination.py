"""Pages of ``SCHEDULER["API_PAGE_SIZE"]`` rows; ``page_size`` up to ``API_MAX_PAGE_SIZE``, else 400."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request

from scheduler_app import conf

#: Page numbers beyond this are refused (an OFFSET of billions is a denial of service).
MAX_PAGE = 100_000


def _positive(request: Request, name: str, upper: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or not 1 <= int(raw) <= upper:
        raise exceptions.ValidationError(
            {name: [_("Enter a whole number from 1 to %(max)d.") % {"max": upper}]}
        )
    return int(raw)


class BoundedPageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        settings = conf.get()
        size = _positive(request, self.page_size_query_param, int(settings.API_MAX_PAGE_SIZE))
        return size or min(int(settings.API_PAGE_SIZE), int(settings.API_MAX_PAGE_SIZE))

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        _positive(request, self.page_query_param, MAX_PAGE)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        found = super().get_paginated_response_schema(schema)
        found["required"] = ["count", "results"]
        return found

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        settings = conf.get()
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (from 1).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": int(settings.API_MAX_PAGE_SIZE),
                },
            },
        ]

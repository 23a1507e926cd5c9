"""The admin's part of the audit trail: its changes say "from the admin", once.

The services write each event and its ``LogEntry`` (the admin's "History"), so
the ModelAdmins of this app write none of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from scheduler_app.models import AuditSource


def from_admin(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run ``view`` with the audit source set to the admin."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from scheduler_app.services import audit  # on a request: every process wraps the views

        with audit.acting_from(AuditSource.ADMIN):
            return view(request, *args, **kwargs)

    return wrapped


class FromAdmin:
    """Mixed into a ModelAdmin: the audit events its views cause say "from the admin"."""

    @property
    def urls(self) -> list[Any]:
        # The admin site reads ``urls``: every view of get_urls(), the subclass's own too.
        urls = super().urls  # type: ignore[misc]
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = from_admin(pattern.callback)
        return urls


class AuditedAdmin(FromAdmin):
    """Mixed into the tasks' ModelAdmin, whose saves and actions go through the services."""

    # The services wrote the LogEntry already, with what changed and from where.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        return None

"""What every scheduling page outside the admin shares with the admin: its header, user bar,
breadcrumbs from Home, a styled 403, and the list of pages a user may open."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from scheduler_app.models import AuditSource
from scheduler_app.presentation import links
from scheduler_app.services import audit


def page_context(request: HttpRequest) -> dict[str, Any]:
    """The admin site's header and user bar, and where "Home" leads, for a scheduling page."""
    from django.contrib import admin

    user = request.user
    staff = bool(user.is_active and user.is_staff)
    context = dict(admin.site.each_context(request))
    context.update(
        # The user bar shows for every signed-in user, not only for staff.
        has_permission=bool(user.is_authenticated),
        is_nav_sidebar_enabled=False,
        home_url=links.reverse_or_empty("admin:index")
        if staff
        else links.reverse_or_empty("scheduler_app:pages") or "/",
        admin_url=links.reverse_or_empty("admin:index") if staff else "",
        pages_url=links.reverse_or_empty("scheduler_app:pages"),
        logout_url=links.reverse_or_empty("admin:logout")
        if staff
        else links.reverse_or_empty("scheduler_app:logout"),
    )
    return context


def forbidden(request: HttpRequest, error: PermissionDenied) -> TemplateResponse:
    """The 403 of the scheduling pages: the site's header, the reason, a way back."""
    context = {
        **page_context(request),
        "title": _("You may not open this page"),
        "reason": str(error) or _("Your account lacks the permission this page needs."),
    }
    return TemplateResponse(request, "scheduler_app/403.html", context, status=403)


def scheduler_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view so that PermissionDenied renders :func:`forbidden` and its changes
    are audited as coming from a module page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            with audit.acting_from(AuditSource.PAGE):  # what it changes is "from a module page"
                return view(request, *args, **kwargs)
        except PermissionDenied as error:
            return forbidden(request, error)

    return wrapped


class SchedulerPageMixin:
    """For class-based scheduling pages: the admin's frame and the styled 403."""

    request: HttpRequest

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Wrapped outside dispatch(), so a PermissionDenied raised by any dispatch() is caught.
        return scheduler_page(super().as_view(**initkwargs))  # type: ignore[misc]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        return {**page_context(self.request), **context}


def scheduling_pages(request: HttpRequest) -> list[links.Page]:
    """The pages outside the admin the request's user may open (see :mod:`scheduler_app.presentation.links`)."""
    return links.scheduling_pages(request.user)

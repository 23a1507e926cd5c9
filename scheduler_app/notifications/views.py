"""The notifications page: a user's in-app notifications, newest first, with the unread count."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scheduler_app.models import Notification
from scheduler_app.views.pages import page_context, scheduler_page

PAGE_SIZE = 50


@scheduler_page
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.for_user(request.user)
    page = Paginator(mine.newest_first(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "scheduler_app/notifications/list.html",
        {
            **page_context(request),
            "title": _("Notifications"),
            "page": page,
            "unread": mine.unread().count(),
        },
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Mark one notification (or all of the user's) read, then follow its link or go back."""
    mine = Notification.objects.for_user(request.user)
    if pk is None:
        mine.mark_read()
        return HttpResponseRedirect(reverse("scheduler_notifications:list"))
    notification = get_object_or_404(mine, pk=pk)
    mine.filter(pk=notification.pk).mark_read()
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("scheduler_notifications:list"))

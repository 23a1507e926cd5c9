"""The calendar feed (an .ics behind a secret link) and the page where a user manages the link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from scheduler_app.services import feeds
from scheduler_app.views.pages import page_context, scheduler_page
from scheduler_app.views.scheduling import task_page_url


@require_GET
@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The token's user's upcoming runs as text/calendar; 404 for an unknown or revoked token."""
    user = feeds.user_for_token(token)
    if user is None:
        raise Http404(_("No such calendar feed."))
    body = feeds.render_feed(
        user, link=lambda task: request.build_absolute_uri(task_page_url(task, user))
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="scheduled-tasks.ics"'
    return response


@scheduler_page
@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def feed_settings(request: HttpRequest) -> HttpResponse:
    """Show whether the user has a feed link; POST ``action=create`` or ``action=revoke``."""
    new_url = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            _token, raw = feeds.issue_token(request.user)
            new_url = request.build_absolute_uri(reverse("scheduler_app:feed", args=[raw]))
            messages.success(request, _("A new feed link was made; any older link stops working."))
        elif action == "revoke":
            feeds.revoke(request.user)
            messages.success(request, _("Your feed link was revoked."))
            return HttpResponseRedirect(reverse("scheduler_app:feed_settings"))
    return render(
        request,
        "scheduler_app/feed_settings.html",
        {
            **page_context(request),
            "title": _("Calendar feed"),
            "token": feeds.active_token(request.user),
            "new_url": new_url,
        },
    )

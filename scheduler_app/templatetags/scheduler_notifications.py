"""``{% load scheduler_notifications %}``: the unread count and a link for a page header."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from scheduler_app.notifications.context_processors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """The request user's unread notification count (the context processor's, if set)."""
    if "scheduler_unread_notifications" in context:
        return int(context["scheduler_unread_notifications"])
    request = context.get("request")
    return unread_count(getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def notifications_link(context: template.Context) -> Any:
    """``Notifications (3)`` linking to the notifications page; empty if it is not routed."""
    try:
        url = reverse("scheduler_notifications:list")
    except NoReverseMatch:
        return ""
    count = unread_notifications(context)
    label = _("Notifications (%(count)d)") % {"count": count} if count else _("Notifications")
    return format_html('<a href="{}" class="sched-notifications">{}</a>', url, label)

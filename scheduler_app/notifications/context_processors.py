"""``scheduler_unread_notifications``: the user's unread count, queried only if a template uses it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def unread_count(user: Any) -> int:
    from scheduler_app.models import Notification

    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.for_user(user).unread().count()


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"scheduler_unread_notifications": SimpleLazyObject(lambda: unread_count(user))}

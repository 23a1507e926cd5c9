"""``scheduler_unread_notifications``: the user's unread count, queried only if a template uses it."""

from __future__ import annotations

from functools import cached_property, total_ordering
from typing import Any

from django.http import HttpRequest


def unread_count(user: Any) -> int:
    from scheduler_app.models import Notification

    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.for_user(user).unread().count()


@total_ordering
class UnreadCount:
    """An int counted on first use (one query), so pages that never show it pay nothing."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def value(self) -> int:
        return unread_count(self.user)

    def __int__(self) -> int:
        return self.value

    __index__ = __int__

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return str(self.value)

    def __eq__(self, other: object) -> bool:
        return self.value == (int(other) if isinstance(other, UnreadCount) else other)

    def __lt__(self, other: object) -> bool:
        return self.value < (int(other) if isinstance(other, UnreadCount) else other)  # type: ignore[operator]

    def __hash__(self) -> int:
        return hash(self.value)


def notifications(request: HttpRequest) -> dict[str, Any]:
    return {"scheduler_unread_notifications": UnreadCount(getattr(request, "user", None))}

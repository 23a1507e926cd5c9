"""Who may call the API at all; what they may do to each task is the scheduler's policy."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from scheduler_app.api.models import ApiToken


class ActiveUser(permissions.BasePermission):
    """A logged-in, active user; a read-only token may only read."""

    message = _("This token is read-only: it may only send GET requests.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            self.message = _("Log in or send an API token.")
            return False
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True

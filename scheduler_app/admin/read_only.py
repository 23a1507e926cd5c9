"""The base of the admin's read-only pages: rows written elsewhere, only listed and shown."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from scheduler_app.admin.selection import CheckedSelectionAdmin


def is_staff(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff)


class ReadOnlyAdmin(CheckedSelectionAdmin):
    """Nobody adds, changes or deletes these rows here: the services and the engine write them.

    Who may see the page is :meth:`may_view` (active staff unless a subclass says otherwise);
    which rows they see is the subclass's ``get_queryset``.
    """

    def may_view(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.may_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_view(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

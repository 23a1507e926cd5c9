"""Saving and deleting tasks in the admin go through the services, all or nothing.

The form asks ``services.validate_update`` while it validates, so a refusal
shows on its fields before anything is written. ``save_model`` then calls
``services.update`` (which also attaches the calendars and writes the
audit event); should the task have changed in between and the services now
refuse, the request's transaction is rolled back: no change, no calendars,
no admin log entry.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from scheduler_app import services
from scheduler_app.admin.actions import refusal_text
from scheduler_app.admin.selection import CheckedSelectionAdmin
from scheduler_app.models import ScheduledTask


class SaveRefused(Exception):
    """The services refused a save the form had accepted; the request is rolled back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ServiceSavingAdmin(CheckedSelectionAdmin):
    """A ModelAdmin of ScheduledTask whose writes are the services'."""

    def get_form(
        self,
        request: HttpRequest,
        obj: ScheduledTask | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form: Any = super().get_form(request, obj, change, **kwargs)
        form.acting_user = request.user  # a new class per call: nothing leaks between requests
        return form

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SaveRefused as refused:
            # The form's check passed, but the task changed before the save and the
            # services refused it; Django's transaction has undone everything.
            messages.error(
                request, _("The task was not saved: %(reason)s") % {"reason": refused.reason}
            )
            return HttpResponseRedirect(request.get_full_path())

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        form = context.get("adminform") and context["adminform"].form
        if form is not None and getattr(form, "only_overlaps", False):
            # A warning to confirm, not a mistake: no "Please correct the errors below".
            context["errors"] = []
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: ScheduledTask, form: Any, change: bool) -> None:
        try:
            services.update(obj, user=request.user, **form.update_arguments())
        except (ValidationError, PermissionDenied) as error:
            raise SaveRefused(refusal_text(error)) from error

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # services.update() attached the calendars (and recorded it); the form must not.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: ScheduledTask) -> None:
        services.delete(obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for task in queryset:
            services.delete(task, user=request.user)

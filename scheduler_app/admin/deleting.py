"""Deleting tasks from the changelist is confirmed on the app's own page, like ending.

Django's ``delete_selected`` lists related objects (runs, audit rows) and refuses
the whole selection with "Permission denied" when one task may not be deleted. A
selection is usually mixed (system tasks, tasks of others), so the page says per
task what will be deleted and what is left, and why; only its "Yes, delete"
button (``post=yes``) calls ``services.delete``, task by task.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.admin.ending import CONFIRMED, LISTED
from scheduler_app.models import ScheduledTask

#: The changelist action this page confirms (it replaces Django's, under Django's name).
ACTION = "delete_selected"


def deletable(
    request: HttpRequest, tasks: list[ScheduledTask]
) -> tuple[list[ScheduledTask], list[tuple[ScheduledTask, str]]]:
    """``tasks`` split into what the user may delete and what is left, with the reason."""
    allowed = policy.allowed_actions_for(request.user, tasks)
    chosen, kept = [], []
    for each in tasks:
        if each.is_system:
            kept.append((each, _("a system task; pause it instead")))
        elif policy.DELETE in allowed.get(each.pk, frozenset()):
            chosen.append(each)
        else:
            kept.append((each, _("you may not delete it")))
    return chosen, kept


def delete_confirmation(modeladmin: Any, request: HttpRequest, queryset: Any) -> TemplateResponse:
    """The page that asks before deleting the tasks of ``queryset``."""
    opts = modeladmin.model._meta
    chosen = list(queryset.order_by("pk")[: LISTED + 1])
    total = queryset.count() if len(chosen) > LISTED else len(chosen)
    deleting, kept = deletable(request, chosen[:LISTED])
    form_url = request.get_full_path()
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "title": _("Delete the selected tasks?"),
        "deleting": deleting,
        "kept": kept,
        "more": max(0, total - LISTED),
        "form_url": form_url,
        "back_url": form_url,
        "action": ACTION,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across") == "1",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirmed_value": CONFIRMED,
    }
    return TemplateResponse(
        request, "admin/scheduler_app/scheduledtask/delete_selected_confirmation.html", context
    )

"""Ending a schedule is confirmed on its own page, as Django confirms a delete.

The task page's "End schedule…" link and the changelist action both land on the
same page; only its "Yes, end" button (``post=yes``) calls ``services.cancel``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import ScheduledTask

#: Names listed on the confirmation page; a longer selection ends with "and N more".
LISTED = 50
CONFIRMED = "yes"


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("post") == CONFIRMED


def end_confirmation(
    modeladmin: Any, request: HttpRequest, queryset: Any, *, task: ScheduledTask | None = None
) -> TemplateResponse:
    """The page that asks before ending the schedules of ``queryset`` (or of one ``task``)."""
    opts = modeladmin.model._meta
    chosen = list(queryset.order_by("pk")[: LISTED + 1]) if task is None else [task]
    total = queryset.count() if task is None and len(chosen) > LISTED else len(chosen)
    allowed = policy.allowed_actions_for(request.user, chosen[:LISTED])
    endable, kept = [], []
    for each in chosen[:LISTED]:
        if policy.CANCEL in allowed.get(each.pk, frozenset()) & policy.possible_actions(each):
            endable.append(each)
        elif policy.CANCEL not in policy.possible_actions(each):
            kept.append((each, _("already ended")))
        else:
            kept.append((each, _("you may not end it")))
    if task is not None:
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        form_url = reverse(f"{prefix}_action", args=[task.pk, "cancel"])
        back_url = reverse(f"{prefix}_change", args=[task.pk])
        title = _("End the schedule of “%(name)s”?") % {"name": task.name}
    else:
        form_url = request.get_full_path()
        back_url = form_url
        title = _("End the selected schedules?")
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "task": task,
        "endable": endable,
        "kept": kept,
        "more": max(0, total - LISTED),
        "form_url": form_url,
        "back_url": back_url,
        "selected": [] if task is not None else request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across") == "1",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirmed_value": CONFIRMED,
    }
    return TemplateResponse(
        request, "admin/scheduler_app/scheduledtask/end_confirmation.html", context
    )

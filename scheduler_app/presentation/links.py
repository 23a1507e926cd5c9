"""Where the scheduling pages are, for every edge that links to them (the admin, the pages,
the template tags): URLs that are "" when the project has not routed the page, and the list
of pages a user may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.registry import registry


def reverse_or_empty(name: str, *args: Any, **kwargs: Any) -> str:
    """``reverse()``, or "" when the project has not included ``scheduler_app.urls``.

    The admin works without those URLs (check ``scheduler_app.W003`` says how to add
    them); its links to the scheduling pages are then left out instead of failing.
    """
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""


def schedule_url(module_id: str, task_type: str, next_url: str = "") -> str:
    """The URL of the page that schedules a new ``module_id.task_type`` task ("" if none)."""
    url = reverse_or_empty("scheduler_app:new", module=module_id, task_type=task_type)
    if url and next_url:
        url += "?" + urlencode({"next": next_url})
    return url


def task_urls(tasks: list[Any], user: Any) -> dict[int, str]:
    """{pk: where ``user`` opens the task}: its admin page for staff, else its edit page if
    they may edit it, else "" (a viewer outside the admin has no page of one task).

    One query at most, whatever the number of tasks.
    """
    if getattr(user, "is_staff", False) and reverse_or_empty(
        "admin:scheduler_app_scheduledtask_changelist"
    ):
        return {
            t.pk: reverse("admin:scheduler_app_scheduledtask_change", args=[t.pk]) for t in tasks
        }
    allowed = policy.allowed_actions_for(user, tasks)
    return {
        t.pk: reverse_or_empty("scheduler_app:edit", t.pk) if policy.EDIT in allowed[t.pk] else ""
        for t in tasks
    }


@dataclass(frozen=True)
class Page:
    title: str
    url: str
    note: str = ""


def scheduling_pages(user: Any) -> list[Page]:
    """The pages outside the admin ``user`` may open: each module's page, the calendar feed,
    the notifications, the approvals. Pages that are not routed are left out."""
    if not user.is_authenticated:
        return []
    pages = []
    for provider in registry.providers():
        if not provider.page_url_name or not (
            policy.is_module_user(user, provider.module_id)
            or policy.is_module_admin(user, provider.module_id)
        ):
            continue
        if url := reverse_or_empty(provider.page_url_name):
            pages.append(
                Page(
                    str(provider.verbose_name()),
                    url,
                    _("Its scheduled tasks, and forms to schedule more."),
                )
            )
    for name, title, note in (
        (
            "scheduler_notifications:list",
            _("Notifications"),
            _("What your tasks told you in the app."),
        ),
        (
            "scheduler_app:feed_settings",
            _("Calendar feed"),
            _("Your tasks' next runs in your calendar application."),
        ),
    ):
        if url := reverse_or_empty(name):
            pages.append(Page(str(title), url, str(note)))
    # Only for people with a request to decide or see (one query), not as noise for everyone.
    url = reverse_or_empty("scheduler_app:approvals")
    from scheduler_app.services import approvals  # loaded by a page, not by every admin import

    if url and approvals.visible(user).exists():
        pages.append(
            Page(
                str(_("Approvals")),
                url,
                str(_("Workflow steps waiting for your decision, and those you may see.")),
            )
        )
    return pages

"""System check ``scheduler_app.W003``: the admin is installed but the scheduling pages are not routed.

The admin works without ``scheduler_app.urls`` (its links to those pages are left
out), but then nobody can schedule a new task or preview a schedule from it, so
the project is told the one line to add.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks
from django.urls import NoReverseMatch, reverse

URLS_LINE = 'path("scheduler/", include("scheduler_app.urls")),'


@checks.register(checks.Tags.urls)
def check_scheduler_urls(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when the task admin is registered but ``scheduler_app.urls`` is not included."""
    if not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib import admin

    from scheduler_app.models import ScheduledTask

    if not admin.site.is_registered(ScheduledTask):
        return []
    try:
        reverse("scheduler_app:preview")
    except NoReverseMatch:
        return [
            checks.Warning(
                "The scheduling pages (scheduler_app.urls) are not in the URLconf: the admin "
                "lists and edits tasks, but cannot schedule new ones or preview a schedule.",
                id="scheduler_app.W003",
                hint=f"Add {URLS_LINE} to urlpatterns in your ROOT_URLCONF "
                "(from django.urls import include, path).",
            )
        ]
    except Exception:  # noqa: BLE001 - a URLconf that does not load is Django's own check (urls.E0xx)
        return []
    return []

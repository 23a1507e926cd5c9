"""``runscheduler --check``: can this installation run tasks, and is a scheduler running them?"""

from __future__ import annotations

import datetime as dt

from django.core import checks
from django.core.cache import caches
from django.db import connection

from scheduler_app import conf
from scheduler_app.registry import registry


def problems(now: dt.datetime | None = None) -> list[str]:
    """One readable line per problem; empty when all is well."""
    found: list[str] = []
    for message in checks.run_checks(tags=["scheduler"]):
        if message.level >= checks.ERROR:
            found.append(f"{message.id}: {message.msg}")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM scheduler_app_scheduledtask LIMIT 1")
    except Exception as exc:  # noqa: BLE001 - reported as a line
        found.append(
            f"Database: {exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            " (did you run migrate?)"
        )
    try:
        cache = caches[conf.get().LOCK_CACHE]
        cache.set("scheduler:check", "ok", 10)
        if cache.get("scheduler:check") != "ok":
            found.append("Lock cache: a value written could not be read back.")
        cache.delete("scheduler:check")
    except Exception as exc:  # noqa: BLE001
        found.append(f"Lock cache '{conf.get().LOCK_CACHE}' unreachable: {exc}")
    if not registry.providers():
        found.append(
            "No task providers are registered (no scheduler_tasks.py found in INSTALLED_APPS)."
        )
    if not any(line.startswith("Database:") for line in found):
        found.extend(watchdog_problems(now))
    return found


def watchdog_problems(now: dt.datetime | None = None) -> list[str]:
    """The watchdog's findings (a silent scheduler, overdue tasks), one line each."""
    from scheduler_app.monitoring import watchdog

    try:
        return watchdog.status(now).lines()
    except Exception as exc:  # noqa: BLE001 - reported as a line
        return [f"Watchdog: {exc.__class__.__name__}: {exc}"]

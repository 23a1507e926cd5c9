"""Checks that read the database: a silent scheduler (W020) and overdue tasks (W021)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.database, "scheduler_watchdog")
def check_watchdog(
    app_configs: Any = None,
    databases: Any = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """A silent scheduler (W020) and overdue tasks (W021).

    Reads the database, so only when asked to (``check --database default``,
    ``migrate``), never on the start-up of every command.
    """
    if not databases:
        return []
    from django.db import DatabaseError

    from scheduler_app.monitoring import watchdog

    try:
        status = watchdog.status()
    except DatabaseError:
        return []  # not migrated yet: nothing to watch
    found: list[checks.CheckMessage] = []
    if status.silent:
        found.append(
            checks.Warning(
                status.silence_line(),
                id="scheduler_app.W020",
                hint="Start the scheduler (runscheduler --loop, or runscheduler from cron every "
                "minute) or raise SCHEDULER['WATCHDOG_SILENCE'] if passes are rarer on purpose.",
            )
        )
    if status.overdue:
        found.append(
            checks.Warning(
                status.overdue_line(),
                id="scheduler_app.W021",
                hint="See the scheduler dashboard in the admin; a task is overdue when it is pending "
                "longer than its misfire grace or SCHEDULER['OVERDUE_GRACE'] after its run time.",
            )
        )
    return found

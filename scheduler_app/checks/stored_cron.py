"""System check W022: stored cron expressions that cron no longer accepts.

Tasks saved before cron was read strictly may hold ``22-2`` (then read as
wrapping around) or ``L``/``W``/``#``; they get no next run now, and this
says which. It reads the database, so only with ``check --database default``.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

# Distinct stored expressions read by W022 at most: a bound on a check run by hand.
STORED_CRON_LIMIT = 10_000


@checks.register(checks.Tags.database, "scheduler_cron")
def check_stored_crons(
    app_configs: Any = None,
    databases: Any = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """Tasks whose stored cron expression is no longer accepted (W022), e.g. ``5-1`` or ``L``."""
    if not databases:
        return []
    from django.core.exceptions import ValidationError
    from django.db import DatabaseError

    from scheduler_app import schedules
    from scheduler_app.models import ScheduledTask

    cron_tasks = ScheduledTask.objects.filter(
        schedule_type__in=[schedules.CRON, schedules.CONDITIONAL]
    )
    try:
        stored = list(
            cron_tasks.order_by()
            .values_list("cron_expression", flat=True)
            .distinct()[:STORED_CRON_LIMIT]
        )
    except DatabaseError:
        return []  # not migrated yet
    refused = []
    for expression in stored:
        try:
            schedules.normalize_cron(expression)
        except ValidationError:
            refused.append(expression)
    if not refused:
        return []
    count = cron_tasks.filter(cron_expression__in=refused).count()
    shown = ", ".join(f"“{schedules.clip(text, 40)}”" for text in sorted(refused)[:5])
    return [
        checks.Warning(
            f"{count} task(s) have a cron expression that is no longer accepted: {shown}"
            + (" …" if len(refused) > 5 else "")
            + "; they get no next run.",
            id="scheduler_app.W022",
            hint="Edit each task's cron expression: a range runs from low to high (write 22-2 as "
            "22-23,0-2) and L, W, #, H and ? are not standard cron. See 'Cron expressions and "
            "daylight saving' in the docs.",
        )
    ]

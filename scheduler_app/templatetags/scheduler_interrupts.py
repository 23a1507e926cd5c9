"""Template tags for the "Stop" button of open runs (task page, log page)."""

from __future__ import annotations

from typing import Any

from django import template

from scheduler_app import policy
from scheduler_app.models import RunStatus

register = template.Library()

OPEN = (RunStatus.RUNNING, RunStatus.ENQUEUED)


@register.simple_tag(takes_context=True)
def sched_can_stop(context: template.Context, task: Any) -> bool:
    """Whether the page's user may stop runs of ``task`` (the service checks again)."""
    request = context.get("request")
    return bool(task is not None and request is not None and policy.can_run(request.user, task))


@register.simple_tag
def sched_open_runs(task: Any, limit: int = 5) -> list[Any]:
    """The task's open runs, newest first (one query)."""
    if task is None:
        return []
    return list(
        task.logs.filter(status__in=OPEN)
        .only("pk", "run_id", "status", "started_at")
        .order_by("-started_at", "-pk")[:limit]
    )


@register.filter
def sched_is_open(log: Any) -> bool:
    return getattr(log, "status", None) in OPEN

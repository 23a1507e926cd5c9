"""The dashboard: counts by status, tasks needing attention, upcoming runs, charts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from scheduler_app import charts, metrics
from scheduler_app.models import TaskExecutionLog, TaskStatus
from scheduler_app.registry import registry

CHART_DAYS = 14


def _module_name(module_id: str) -> str:
    if registry.is_registered(module_id):
        return str(registry.get(module_id).verbose_name())
    return module_id


def dashboard_view(request: HttpRequest, tasks: QuerySet, now: dt.datetime) -> dict[str, Any]:
    """The dashboard's context for the tasks the user may see (a constant number of queries)."""
    logs = TaskExecutionLog.objects.all()
    if tasks.query.where:
        # Restricted users: only the runs of the tasks they may see.
        logs = logs.filter(task__in=tasks.values("pk"))
    counts = metrics.status_counts(tasks)
    days, outcomes = metrics.daily_outcomes(logs, now, CHART_DAYS)
    _days, durations = metrics.daily_durations(logs, now, CHART_DAYS)
    outcome_charts = [
        (_module_name(module_id), charts.stacked_bars(
            _("Runs of %(module)s per day: successes and failures") % {"module": _module_name(module_id)},
            days, per_day))
        for module_id, per_day in outcomes.items()
    ]
    duration_chart = charts.line_chart(
        _("Run duration per day"), days,
        [(_("average"), {d: v[0] for d, v in durations.items()}),
         (_("longest"), {d: v[1] for d, v in durations.items()})],
    )
    return {
        "now": now,
        "status_counts": [(status, label, counts.get(status, 0)) for status, label in TaskStatus.choices],
        "total": sum(counts.values()),
        "failing": list(metrics.failing_tasks(tasks)),
        "stale": list(metrics.stale_tasks(tasks, now)),
        "upcoming": list(metrics.upcoming_tasks(tasks, now)),
        "outcome_charts": outcome_charts,
        "duration_chart": duration_chart,
        "chart_days": CHART_DAYS,
    }

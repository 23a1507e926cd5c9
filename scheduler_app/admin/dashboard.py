"""The dashboard: counts by status, tasks needing attention, upcoming runs, charts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import RunStatus, TaskExecutionLog, TaskStatus
from scheduler_app.monitoring import charts, metrics, watchdog
from scheduler_app.presentation.links import reverse_or_empty
from scheduler_app.registry import registry

CHART_DAYS = 14
#: Chart data is cached this long; new runs change the key, so it is never older than the newest run.
CHART_CACHE_SECONDS = 60
#: Last-run outcomes always shown on the dashboard, even at zero (others when they occur).
LAST_RUN_SHOWN = (RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.TIMEOUT)


def _module_name(module_id: str) -> str:
    if registry.is_registered(module_id):
        return str(registry.get(module_id).verbose_name())
    return module_id


def chart_data(user: Any, logs: QuerySet, now: dt.datetime) -> tuple[list, dict, dict]:
    """Per-module outcomes and durations per day, cached for :data:`CHART_CACHE_SECONDS`.

    They aggregate every run of the last days, the dashboard's one costly query
    with a million log rows; the key holds the newest run, so a new run is seen at once.
    """
    # The newest run of all (two index reads), not of the visible ones (a join over every run).
    newest = TaskExecutionLog.objects.aggregate(pk=Max("pk"), at=Max("started_at"))
    scope = "all" if policy.can_view_all(user) else f"user-{user.pk}"
    key = (
        f"scheduler_app:dashboard:{scope}:{timezone.localdate(now)}:{newest['pk']}:"
        f"{newest['at'].timestamp() if newest['at'] else 0}"
    )
    cached = cache.get(key)
    if cached is None:
        days, outcomes = metrics.daily_outcomes(logs, now, CHART_DAYS)
        _days, durations = metrics.daily_durations(logs, now, CHART_DAYS)
        cached = (days, outcomes, durations)
        cache.set(key, cached, CHART_CACHE_SECONDS)
    return cached


def last_run_counts(tasks: QuerySet) -> list[tuple[str, str, int]]:
    """(outcome, label, tasks) by the outcome of each task's last run, "never run" included.

    A recurring task is pending again after each run, so its status says nothing about how
    its runs went; this does. One query.
    """
    counts = {
        row["last_status"]: row["n"]
        for row in tasks.order_by().values("last_status").annotate(n=Count("pk"))
    }
    labels = dict(RunStatus.choices)
    shown: list[tuple[str, str, int]] = [
        (str(status), str(labels[status]), counts.get(status, 0)) for status in LAST_RUN_SHOWN
    ]
    shown += [
        (status, str(labels.get(status, status)), n)
        for status, n in counts.items()
        if status and status not in LAST_RUN_SHOWN
    ]
    shown.append(("", _("Never run"), counts.get("", 0)))
    return shown


def dashboard_view(request: HttpRequest, tasks: QuerySet, now: dt.datetime) -> dict[str, Any]:
    """The dashboard's context for the tasks the user may see (a constant number of queries)."""
    logs = policy.viewable_logs(request.user)
    counts = metrics.status_counts(tasks)
    days, outcomes, durations = chart_data(request.user, logs, now)
    outcome_charts = [
        (
            _module_name(module_id),
            charts.stacked_bars(
                _("Runs of %(module)s per day: successes and failures")
                % {"module": _module_name(module_id)},
                days,
                per_day,
            ),
        )
        for module_id, per_day in outcomes.items()
    ]
    duration_chart = charts.line_chart(
        _("Run duration per day"),
        days,
        [
            (_("average"), {d: v[0] for d, v in durations.items()}),
            (_("longest"), {d: v[1] for d, v in durations.items()}),
        ],
    )
    return {
        "now": now,
        "status_counts": [
            (status, label, counts.get(status, 0)) for status, label in TaskStatus.choices
        ],
        "total": sum(counts.values()),
        "last_run_counts": last_run_counts(tasks),
        "failing": list(metrics.failing_tasks(tasks)),
        "stale": list(metrics.stale_tasks(tasks, now)),
        "watchdog": watchdog.status(now, tasks=tasks),
        "upcoming": list(metrics.upcoming_tasks(tasks, now)),
        "outcome_charts": outcome_charts,
        "duration_chart": duration_chart,
        "chart_days": CHART_DAYS,
        "live_url": reverse_or_empty("scheduler_app:live_running"),
    }

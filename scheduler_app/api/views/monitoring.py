"""status/ and stats/: the watchdog's findings and the dashboard's numbers, for what you may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import policy
from scheduler_app.api.views.base import BaseApiView, documented
from scheduler_app.monitoring import metrics, watchdog

#: Days the run statistics cover (the dashboard's charts cover as many).
STATS_DAYS = 14

STATUS = inline_serializer(
    "SchedulerStatus",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unhealthy"]),
        "checked_at": serializers.DateTimeField(),
        "scheduler": serializers.JSONField(),
        "overdue": serializers.JSONField(),
        "problems": serializers.ListField(child=serializers.CharField()),
    },
)
STATS = inline_serializer(
    "SchedulerStats",
    fields={
        "checked_at": serializers.DateTimeField(),
        "days": serializers.IntegerField(),
        "tasks": serializers.JSONField(help_text="total, by_status, by_module"),
        "runs": serializers.JSONField(
            help_text="successes, failures, success_rate (%), p95_duration and avg_duration "
            "(seconds), by_module"
        ),
    },
)


class StatusView(BaseApiView):
    @documented(responses=STATUS)
    def get(self, request: Request) -> Response:
        """Last scheduler pass, a silent scheduler, overdue tasks (among those you may see)."""
        tasks = policy.viewable_queryset(request.user)
        found = watchdog.status(timezone.now(), tasks=tasks).as_json(names=True)
        if not policy.can_view_all(request.user):
            found["scheduler"]["last_pass_host"] = None  # hosts are for those who see everything
        return Response(found)


def run_stats(logs: Any, now: dt.datetime, days: int) -> dict[str, Any]:
    """Outcomes per module and duration percentiles over ``days`` (the dashboard's queries)."""
    dates, outcomes = metrics.daily_outcomes(logs, now, days)
    _dates, durations = metrics.daily_durations(logs, now, days)
    by_module = {
        module: {
            "successes": sum(ok for ok, _bad in per_day.values()),
            "failures": sum(bad for _ok, bad in per_day.values()),
        }
        for module, per_day in outcomes.items()
    }
    successes = sum(m["successes"] for m in by_module.values())
    failures = sum(m["failures"] for m in by_module.values())
    since = timezone.make_aware(dt.datetime.combine(dates[0], dt.time.min))
    finished = logs.filter(started_at__gte=since, status__in=metrics.FINISHED)
    timed_days = [v for v in durations.values() if v[0] is not None]
    return {
        "successes": successes,
        "failures": failures,
        "success_rate": round(100.0 * successes / (successes + failures), 2)
        if successes + failures
        else None,
        "p95_duration": metrics.percentile(finished, 0.95),
        "longest_duration": max((v[1] for v in timed_days), default=None),
        "by_module": by_module,
    }


class StatsView(BaseApiView):
    @documented(responses=STATS)
    def get(self, request: Request) -> Response:
        """Tasks by status and module; runs, success rate and p95 duration of the last 14 days."""
        now = timezone.now()
        tasks = policy.viewable_queryset(request.user)
        by_status = metrics.status_counts(tasks)
        return Response(
            {
                "checked_at": now,
                "days": STATS_DAYS,
                "tasks": {
                    "total": sum(by_status.values()),
                    "by_status": by_status,
                    "by_module": metrics.module_counts(tasks),
                },
                "runs": run_stats(policy.viewable_logs(request.user), now, STATS_DAYS),
            }
        )

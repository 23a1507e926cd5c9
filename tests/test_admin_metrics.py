"""Aggregate metrics for the task page and dashboard, and the SVG charts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.monitoring import charts, metrics


def add_log(task, started, *, status=RunStatus.SUCCESS, duration=1.0):
    return TaskExecutionLog.objects.create(
        task=task,
        run_id=uuid.uuid4().hex,
        scheduled_for=started,
        started_at=started,
        status=status,
        duration=duration,
    )


@pytest.fixture
def clock():
    return timezone.now().replace(microsecond=0)


def test_p95_is_the_nearest_rank_value(make_task, clock, django_assert_num_queries):
    task = make_task()
    for n in range(1, 101):
        add_log(task, clock - dt.timedelta(minutes=n), duration=float(n))
    logs = TaskExecutionLog.objects.filter(task=task)
    with django_assert_num_queries(1):
        assert metrics.percentile(logs, count=100) == 95.0
    assert metrics.percentile(logs) == 95.0
    assert metrics.percentile(logs, 1.0) == 100.0
    assert metrics.percentile(logs, 0.0) == 1.0
    assert metrics.percentile(logs, 0.5) == 50.0
    assert metrics.percentile(logs.none()) is None


def test_task_metrics_per_window(make_task, clock, django_assert_num_queries):
    task = make_task()
    add_log(task, clock - dt.timedelta(hours=1), duration=2.0)
    add_log(task, clock - dt.timedelta(hours=2), status=RunStatus.FAILED, duration=4.0)
    add_log(task, clock - dt.timedelta(days=3), status=RunStatus.TIMEOUT, duration=300.0)
    add_log(task, clock - dt.timedelta(days=20), duration=10.0)
    add_log(task, clock - dt.timedelta(days=40), duration=99.0)  # outside every window
    add_log(task, clock - dt.timedelta(minutes=1), status=RunStatus.RUNNING, duration=None)
    add_log(make_task(), clock - dt.timedelta(hours=1), duration=1000.0)  # another task
    with django_assert_num_queries(4):
        day, week, month = metrics.task_metrics(task, clock)
    assert (day.runs, day.successes, day.success_rate, day.avg_duration, day.p95_duration) == (
        2,
        1,
        50.0,
        3.0,
        4.0,
    )
    assert (week.runs, week.successes, week.p95_duration) == (3, 1, 300.0)
    assert (month.runs, month.successes) == (4, 2)
    assert month.avg_duration == pytest.approx(79.0)


def test_metrics_of_a_task_without_runs(make_task, clock):
    day = metrics.task_metrics(make_task(), clock)[0]
    assert (day.runs, day.success_rate, day.avg_duration, day.p95_duration) == (0, None, None, None)


def test_status_counts_include_every_status(make_task):
    paused = make_task()
    make_task()
    ScheduledTask.objects.filter(pk=paused.pk).update(status="paused")
    counts = metrics.status_counts(ScheduledTask.objects.all())
    assert counts["pending"] == 1 and counts["paused"] == 1 and counts["failed"] == 0


def test_daily_outcomes_group_by_module_and_day(make_task, clock):
    task = make_task()
    add_log(task, clock - dt.timedelta(minutes=5))
    add_log(task, clock - dt.timedelta(minutes=6), status=RunStatus.FAILED)
    add_log(task, clock - dt.timedelta(days=1, minutes=5), status=RunStatus.TIMEOUT)
    days, outcomes = metrics.daily_outcomes(TaskExecutionLog.objects.all(), clock, 7)
    assert len(days) == 7 and days[-1] == timezone.localdate(clock)
    assert outcomes["testmod"][days[-1]] == (1, 1)
    assert outcomes["testmod"][days[-2]] == (0, 1)


def test_charts_escape_labels_and_draw_every_day(clock):
    days = [dt.date(2026, 6, d) for d in range(1, 8)]
    svg = charts.stacked_bars("<script>", days, {days[0]: (3, 1)})
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 14
    line = charts.line_chart("durations", days, [("avg", {days[1]: 2.0, days[3]: 4.0})])
    assert "<polyline" in line and line.count("<circle") == 2
    empty = charts.line_chart("durations", days, [("avg", {})])
    assert "<polyline" not in empty

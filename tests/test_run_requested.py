"""A run someone asks for (run now) is not held back by blackout calendars or pause windows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, TaskExecutionLog
from scheduler_app.services import calendars
from scheduler_app.services.calendars import Period
from tests.testapp.models import Execution


@pytest.mark.django_db(transaction=True)
def test_run_now_runs_through_a_blackout_that_skips_the_scheduled_slot(make_task, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    today = timezone.now().date()
    freeze = calendars.create_calendar(
        user=None,
        name="Freeze",
        periods=[
            Period(today - dt.timedelta(days=1), today + dt.timedelta(days=1), label="freeze")
        ],
    )
    task = make_task(due=timezone.now() - dt.timedelta(seconds=1), calendars=[freeze])

    run_pass(PassOptions())
    assert TaskExecutionLog.objects.get(task=task).status == RunStatus.SKIPPED
    assert not Execution.objects.filter(task_id=task.pk).exists()

    services.run_now(task, user=None)
    run_pass(PassOptions())

    ran = TaskExecutionLog.objects.filter(task=task, status=RunStatus.SUCCESS).get()
    assert ran.triggered_by == "request"
    assert Execution.objects.filter(task_id=task.pk).count() == 1
    task.refresh_from_db()
    assert task.run_requested is False  # the next scheduled slot is held back again

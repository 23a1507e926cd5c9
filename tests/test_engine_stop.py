"""A pass told to stop while its next claim is on its way gives those runs back.

Worker processes, the claim on the pass's database thread: the stop request
arrives as soon as the second claim has won its rows, so the runs it claimed
are neither started nor left ``running`` under a lease nobody renews.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from scheduler_app.engine.passes import PassOptions, SchedulerPass
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, TaskStatus
from tests.testapp.models import Execution

pytestmark = pytest.mark.django_db(transaction=True)


def test_runs_claimed_when_the_stop_came_are_given_back(settings, make_task):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "process",
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
    }
    due = timezone.now() - dt.timedelta(seconds=1)
    tasks = [make_task("record", cron="0 0 1 1 *", due=due) for _ in range(30)]
    first_claim = 8  # 4 per worker before the pass knows its rate

    scheduler_pass = SchedulerPass(
        PassOptions(workers=2), should_stop=lambda: scheduler_pass.report.claimed > first_claim
    )
    try:
        report = scheduler_pass.run()
    finally:
        if scheduler_pass.pool is not None:
            scheduler_pass.pool.close()

    assert report.claimed > first_claim  # the second claim did win rows
    ran = set(Execution.objects.values_list("task_id", flat=True))
    assert len(ran) == report.executed < report.claimed
    assert not TaskExecutionLog.objects.filter(status=RunStatus.RUNNING).exists()
    assert not ScheduledTask.objects.filter(status=TaskStatus.RUNNING).exists()
    for task in ScheduledTask.objects.filter(pk__in=[t.pk for t in tasks]):
        if task.pk in ran:
            assert (task.run_count, task.last_status) == (1, "success")
        else:  # given back: claimable by the next pass, no log row, no lease
            assert (task.run_count, task.lease_token, task.lease_expires_at) == (0, "", None)
            assert not TaskExecutionLog.objects.filter(task=task).exists()

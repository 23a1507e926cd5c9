"""Execution on Django's Tasks framework, end to end with django-tasks-db's worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from scheduler_app.engine import handoff
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, TaskStatus
from tests.testapp.models import Execution

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tasks_mode(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "tasks",
        "TASKS_BACKEND": "db",
        "RETRY_JITTER": 0,
    }


def test_claimed_runs_are_enqueued_then_run_by_the_tasks_worker(make_task, tasks_mode):
    past = timezone.now() - dt.timedelta(seconds=5)
    tasks = [make_task("record", due=past, config={"note": f"n{i}"}) for i in range(3)]
    failing = make_task("fail", due=past, max_retries=0)

    report = run_pass(PassOptions())

    assert report.by_status == {RunStatus.ENQUEUED: 4}
    assert Execution.objects.count() == 0  # nothing ran in the scheduler process
    assert set(TaskExecutionLog.objects.values_list("status", flat=True)) == {RunStatus.ENQUEUED}
    assert set(ScheduledTask.objects.values_list("status", flat=True)) == {TaskStatus.RUNNING}

    call_command("db_worker", "--batch", "--backend", "db", "--no-startup-delay", verbosity=0)

    assert sorted(Execution.objects.values_list("task_id", flat=True)) == sorted(
        t.pk for t in tasks
    )
    for task in tasks:
        task.refresh_from_db()
        assert task.status == TaskStatus.PENDING and task.last_status == RunStatus.SUCCESS
        assert task.next_run > past
        log = task.logs.get()
        assert log.status == RunStatus.SUCCESS and "recorded" in log.output
    failing.refresh_from_db()
    assert failing.last_status == RunStatus.FAILED
    assert failing.logs.get().error_message == "it failed on purpose"


def test_a_run_given_up_before_a_worker_takes_it_is_not_executed(make_task, tasks_mode, settings):
    past = timezone.now() - dt.timedelta(seconds=5)
    task = make_task("record", due=past)
    first = run_pass(PassOptions())
    assert first.by_status == {RunStatus.ENQUEUED: 1}, first
    # The queue stalls beyond the lease: the next pass recovers the run as abandoned.
    ScheduledTask.objects.filter(pk=task.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    recovered = run_pass(PassOptions(now=past - dt.timedelta(minutes=1)))  # recovery only
    assert recovered.recovered == 1

    call_command("db_worker", "--batch", "--backend", "db", "--no-startup-delay", verbosity=0)

    assert Execution.objects.count() == 0
    statuses = list(task.logs.values_list("status", flat=True))
    assert statuses == [RunStatus.ABANDONED]


def test_the_hand_off_task_is_bound_at_start_and_a_missing_backend_only_warns(
    tasks_mode, settings, caplog
):
    handoff.prepare()  # the configured backend: bound (django-tasks-celery registers it here)
    assert handoff.bound_task().backend == "db"
    assert not caplog.records

    settings.SCHEDULER = {**settings.SCHEDULER, "TASKS_BACKEND": "nowhere"}
    handoff.prepare()  # AppConfig.ready() goes on; the check (E015) and enqueue() report it
    [record] = caplog.records
    assert record.levelname == "WARNING" and "'nowhere'" in record.getMessage()

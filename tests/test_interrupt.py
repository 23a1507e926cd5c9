"""Stopping a running run (services.interrupt) without stopping the scheduler."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import close_old_connections
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, SchedulerHeartbeat, TaskExecutionLog

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_interrupted_run_is_cancelled_by_name_and_the_pass_goes_on(
    make_task, make_user, settings
):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "process",
        "WORKERS": 2,
        "INTERRUPT_GRACE": 2,
    }
    past = timezone.now() - dt.timedelta(minutes=1)
    owner = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    hang = make_task("hang", due=past, timeout=120, user=owner)
    other = make_task("record", due=past, config={"sleep": 0.2})

    def stop_it() -> None:
        try:
            for _ in range(100):
                log = TaskExecutionLog.objects.filter(task=hang, status=RunStatus.RUNNING).first()
                if log is not None:
                    time.sleep(0.5)
                    services.interrupt(log, user=owner)
                    return
                time.sleep(0.1)
        finally:
            close_old_connections()

    stopper = threading.Thread(target=stop_it)
    stopper.start()
    started = time.monotonic()
    report = run_pass(PassOptions())
    stopper.join()

    assert time.monotonic() - started < 30, report  # not the 120 s timeout
    assert TaskExecutionLog.objects.filter(task=hang).exists(), (
        report,
        list(TaskExecutionLog.objects.values("task_id", "status")),
    )
    log = TaskExecutionLog.objects.get(task=hang)
    assert log.status == RunStatus.CANCELLED
    assert owner.username in log.error_message
    assert TaskExecutionLog.objects.get(task=other).status == RunStatus.SUCCESS
    hang.refresh_from_db()
    assert hang.status == "pending" and hang.retry_count == 0 and hang.next_run > past
    assert report.by_status[RunStatus.CANCELLED] == 1
    assert SchedulerHeartbeat.objects.filter(claimed=2).exists()


def test_only_open_runs_can_be_interrupted_and_only_by_who_may_run_them(
    make_task, make_user, settings
):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    past = timezone.now() - dt.timedelta(minutes=1)
    task = make_task("noop", due=past)
    run_pass(PassOptions())
    log = TaskExecutionLog.objects.get(task=task)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.interrupt(log, user=None)
    TaskExecutionLog.objects.filter(pk=log.pk).update(status=RunStatus.RUNNING)
    stranger = make_user("scheduler_app.SA_SCHEDULER")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.interrupt(log, user=stranger)


def test_asking_twice_to_stop_a_run_is_refused_and_recorded_once(make_task, make_user, settings):
    from django.core.exceptions import ValidationError

    from scheduler_app.models import TaskAuditEvent

    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    task = make_task("noop", due=timezone.now() - dt.timedelta(minutes=1))
    run_pass(PassOptions())
    log = TaskExecutionLog.objects.get(task=task)
    TaskExecutionLog.objects.filter(pk=log.pk).update(status=RunStatus.RUNNING)
    services.interrupt(log, user=None)
    events = TaskAuditEvent.objects.count()
    with pytest.raises(ValidationError, match="already"):
        services.interrupt(log, user=None)
    assert TaskAuditEvent.objects.count() == events


@pytest.mark.django_db
def test_the_passes_stop_question_finds_exactly_the_requested_runs(make_task, monkeypatch):
    from scheduler_app.engine import passes
    from scheduler_app.models import sql

    monkeypatch.setattr(sql, "PER_STATEMENT", 3)  # eight runs: three statements
    task = make_task("noop")
    now = timezone.now()
    logs = [
        TaskExecutionLog.objects.create(
            task=task,
            run_id=f"stop-{i}",
            scheduled_for=now + dt.timedelta(minutes=i),
            status=RunStatus.RUNNING,
            started_at=now,
            interrupt_requested_at=now if i % 3 == 0 else None,
            interrupt_requested_by=f"user {i}" if i % 3 == 0 else "",
        )
        for i in range(8)
    ]
    asked = [log.pk for log in logs] + [10_000_000]  # and one that does not exist
    expected = dict(
        TaskExecutionLog.objects.filter(
            pk__in=asked, interrupt_requested_at__isnull=False
        ).values_list("pk", "interrupt_requested_by")
    )
    assert passes.SchedulerPass._interrupts(asked) == expected
    assert expected == {logs[0].pk: "user 0", logs[3].pk: "user 3", logs[6].pk: "user 6"}
    assert passes.SchedulerPass._interrupts([]) == {}

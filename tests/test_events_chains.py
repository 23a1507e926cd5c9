"""Event triggers, conditional checks and on_success chains, through the engine."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import PendingEvent, RunStatus, TaskExecutionLog
from scheduler_app.services import chains
from tests.testapp.models import Execution

pytestmark = pytest.mark.usefixtures("inline")


def notes(task) -> list[str]:
    return list(
        Execution.objects.filter(task_id=task.pk).order_by("pk").values_list("note", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_each_emit_runs_the_listening_task_once_in_order_with_its_payload(make_task):
    listener = make_task(
        "record_payload", schedule_type="event", event="crm.opportunity.won", cron=None
    )
    other = make_task(
        "record_payload", schedule_type="event", event="crm.opportunity.lost", cron=None
    )
    assert listener.next_run is None

    services.emit("crm.opportunity.won", {"id": 1})
    services.emit("crm.opportunity.won", {"id": 2})
    first = run_pass(PassOptions())
    second = run_pass(PassOptions())  # the second event waited for the first run
    third = run_pass(PassOptions())

    assert notes(listener) == [json.dumps({"id": 1}), json.dumps({"id": 2})]
    assert notes(other) == []
    assert (first.executed, second.executed, third.executed) == (1, 1, 0)
    listener.refresh_from_db()
    assert listener.next_run is None and listener.status == "pending"
    assert not PendingEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_emit_inside_a_rolled_back_transaction_fires_nothing(make_task):
    from django.db import transaction

    listener = make_task("record_payload", schedule_type="event", event="todo.done", cron=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.emit("todo.done", {"id": 9})
        raise RuntimeError("rollback")
    run_pass(PassOptions())
    assert notes(listener) == []
    with transaction.atomic():
        services.emit("todo.done", {"id": 10})
        assert not PendingEvent.objects.exists()  # not before commit
    run_pass(PassOptions())
    assert notes(listener) == [json.dumps({"id": 10})]


@pytest.mark.django_db(transaction=True)
def test_unmet_condition_checks_leave_no_log_rows_and_are_counted_on_the_run(make_task):
    past = timezone.now() - dt.timedelta(minutes=1)
    task = make_task("when_go", schedule_type="conditional", cron="* * * * *", due=past)

    for _ in range(3):
        run_pass(PassOptions())
        task.refresh_from_db()
        type(task).objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)
    assert TaskExecutionLog.objects.filter(task=task).count() == 0
    task.refresh_from_db()
    assert task.skipped_checks == 3 and task.last_checked_at is not None and task.run_count == 0

    Execution.objects.create(task_id=0, note="go")
    run_pass(PassOptions())

    log = TaskExecutionLog.objects.get(task=task)
    assert log.status == RunStatus.SUCCESS and log.result["checks_skipped"] == 3
    task.refresh_from_db()
    assert task.skipped_checks == 0 and task.run_count == 1
    assert notes(task) == ["went"]


@pytest.mark.django_db(transaction=True)
def test_success_makes_chained_tasks_due_and_failure_does_not(make_task):
    past = timezone.now() - dt.timedelta(minutes=1)
    first = make_task("record", due=past, config={"note": "first"})
    then = make_task(
        "record", schedule_type="event", event="never", cron=None, config={"note": "then"}
    )
    failing = make_task("fail", due=past, max_retries=0)
    not_after_failure = make_task("record", schedule_type="event", event="never", cron=None)
    chains.set_chain(first, [then])
    chains.set_chain(failing, [not_after_failure])

    run_pass(PassOptions())  # first and failing run; then becomes due
    run_pass(PassOptions())  # then runs

    assert notes(first) == ["first"] and notes(then) == ["then"]
    assert notes(not_after_failure) == []
    first_log = TaskExecutionLog.objects.get(task=first)
    then_log = TaskExecutionLog.objects.get(task=then)
    assert then_log.started_at >= first_log.finished_at

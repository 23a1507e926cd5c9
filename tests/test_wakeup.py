"""A sleeping ``runscheduler --loop`` starts a task soon after it becomes due, not a loop later.

The daemon sleeps 60 s between passes; run now, a new task due now and an
emitted event must each start within 10 s (on PostgreSQL through LISTEN/NOTIFY,
elsewhere through the cheap poll), and it must not get there by running passes
all the time.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from scheduler_app import services
from scheduler_app.models import SchedulerHeartbeat
from tests.engine_processes import scheduler_env, wait_for
from tests.testapp.models import Execution

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BOUND = 10  # seconds; the loop sleeps 60


def _ran(task_id: int) -> bool:
    return Execution.objects.filter(task_id=task_id).exists()


def test_a_sleeping_daemon_wakes_for_run_now_a_new_task_and_an_event(procs, make_task):
    tomorrow = timezone.now() + dt.timedelta(days=1)
    later = make_task(schedule_type="one_time", cron=None, run_at=tomorrow)
    listener = make_task(schedule_type="event", cron=None, event="wake.test")
    daemon = procs.scheduler("--loop", "--sleep", "60", "--workers", "1", env=scheduler_env())
    wait_for(lambda: SchedulerHeartbeat.objects.exists(), 60, "the daemon's first pass")

    services.run_now(later, user=None)
    wait_for(lambda: _ran(later.pk), BOUND, "the task run now to start")

    # A one-time task cannot be scheduled in the past: the earliest is a moment from now.
    fresh = make_task(
        schedule_type="one_time", cron=None, run_at=timezone.now() + dt.timedelta(seconds=2)
    )
    wait_for(lambda: _ran(fresh.pk), BOUND, "the new task to start at its time")

    services.emit("wake.test", {"n": 1})
    wait_for(lambda: _ran(listener.pk), BOUND, "the event task to start")

    assert daemon.poll() is None, daemon.communicate()
    # Woken three times, not polling passes: a handful of passes, not one a second.
    assert SchedulerHeartbeat.objects.count() <= 8


def test_a_sleeping_daemon_wakes_when_an_approval_is_decided(procs, make_task, make_user):
    from scheduler_app.models import Approval

    def step(name, task_type="record", module="testmod", config=None):
        return make_task(
            task_type,
            module=module,
            name=name,
            schedule_type="event",
            event="never",
            cron=None,
            max_retries=0,
            config=config if config is not None else {"note": name},
        )

    draft = step("draft")
    review = step(
        "review",
        task_type="approval",
        module="workflow",
        config={"title": "Go on?", "permission": "SA_TESTMOD_ADMIN"},
    )
    publish = step("publish")
    services.add_edge(draft, review, user=None)
    services.add_edge(review, publish, user=None, condition="success")
    approver = make_user("scheduler_app.SA_TESTMOD_ADMIN", username="approver")
    daemon = procs.scheduler("--loop", "--sleep", "60", "--workers", "1", env=scheduler_env())
    wait_for(lambda: SchedulerHeartbeat.objects.exists(), 60, "the daemon's first pass")

    services.run_now(draft, user=None)
    # Decided at once, while the step that asked may still be recording its run.
    wait_for(lambda: Approval.objects.exists(), BOUND, "the approval step to ask")
    services.approve(Approval.objects.get(), user=approver, comment="yes")
    wait_for(lambda: _ran(publish.pk), BOUND, "the step after the approval to start")
    assert daemon.poll() is None, daemon.communicate()

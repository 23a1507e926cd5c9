"""Inline execution (EXECUTION "inline"): a body longer than the lease keeps its lease.

The clock is injected (time-machine): the body moves it past the lease's end,
waits until the lease in the database has moved past that too, and asks the
recovery of another scheduler whether the run looks abandoned.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import time_machine
from django.utils import timezone

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, conf
from scheduler_app.engine import recovery
from scheduler_app.engine.passes import run_pass
from scheduler_app.models import ScheduledTask, TaskExecutionLog
from scheduler_app.registry import registry

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 3
START = dt.datetime(2026, 6, 1, 12, 0, 30, tzinfo=dt.UTC)
seen: dict[str, object] = {}


class OutlivesItsLease(SchedulableTask):
    name = "Runs ten leases long"

    def execute(self, context):
        traveller = seen["clock"]
        traveller.shift(dt.timedelta(seconds=10 * LEASE))
        # Wait (bounded, generously) for the lease to be renewed past the new now.
        deadline = time.monotonic() + 20
        renewed = False
        while not renewed and time.monotonic() < deadline:
            expires = ScheduledTask.objects.get(pk=context.task_id).lease_expires_at
            renewed = expires is not None and expires > timezone.now()
            if not renewed:
                time.sleep(0.05)
        seen["renewed"] = renewed
        # Another scheduler's pass starts now: it must not take this run for abandoned.
        seen["recovered"] = recovery.recover_expired(conf.get())
        return TaskResult.success()


class InlineTestProvider(TaskProvider):
    module_id = "inlinetest"
    name = "Inline test module"
    base_permission = "SA_INLINETEST"
    task_types = {"outlives_lease": OutlivesItsLease}


@pytest.fixture
def provider():
    registry.register(InlineTestProvider, strict=True)
    yield
    registry.unregister(InlineTestProvider.module_id)


def test_a_long_inline_body_keeps_its_lease(provider, settings, make_task):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "LEASE_SECONDS": LEASE,
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
    }
    with time_machine.travel(START, tick=True) as traveller:
        seen.clear()
        seen["clock"] = traveller
        task = make_task(
            "outlives_lease",
            module="inlinetest",
            cron="0 0 1 1 *",
            due=START - dt.timedelta(seconds=1),
            timeout=600,
        )
        report = run_pass()

    assert seen["renewed"] is True
    assert seen["recovered"] == 0
    assert report.executed == 1 and report.lost_leases == 0
    assert list(TaskExecutionLog.objects.values_list("status", flat=True)) == ["success"]
    task.refresh_from_db()
    assert (task.status, task.run_count, task.last_status) == ("pending", 1, "success")

"""One scheduler pass, in process: order, results, retries, faults, misfires, signals, locks."""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid

import pytest
import time_machine
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, signals
from scheduler_app.engine import locks
from scheduler_app.engine.capture import TRUNCATED
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.pacing import ClaimPacer
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import ScheduledTask, TaskExecutionLog
from scheduler_app.registry import registry
from tests.testapp.models import Execution

MINUTE = dt.timedelta(minutes=1)


# -- a throwaway module with the task types only these tests need -----------------


class PendingUntilForm(forms.Form):
    at = forms.DateTimeField()


class ChattyForm(forms.Form):
    size = forms.IntegerField(min_value=0)


class CountForm(forms.Form):
    count = forms.IntegerField(min_value=1)


class AsksForDelay(SchedulableTask):
    name = "Fails and asks for a delay"

    def execute(self, context):
        return TaskResult.failure("try me again in 7 s", retry_delay=7)


class Hopeless(SchedulableTask):
    name = "Fails without retry"

    def execute(self, context):
        return TaskResult.failure("trying again cannot help", retry=False)


class PendingUntil(SchedulableTask):
    name = "Not ready until a given time"
    config_form = PendingUntilForm

    def execute(self, context):
        return TaskResult.pending(next_run=context.config["at"])


class Chatty(SchedulableTask):
    name = "Prints and logs"
    config_form = ChattyForm

    def execute(self, context):
        print("x" * context.config["size"])
        logging.getLogger("engtest.chatty").warning("a warning from the body")
        return TaskResult.success()


class Counts(SchedulableTask):
    name = "Needs a positive count"
    config_form = CountForm

    def execute(self, context):
        return TaskResult.success()


class BrokenCheck(SchedulableTask):
    name = "can_execute raises"

    def can_execute(self, context):
        raise ValueError("provider bug in can_execute")

    def execute(self, context):  # pragma: no cover - never reached
        return TaskResult.success()


class EngineTestProvider(TaskProvider):
    module_id = "engtest"
    name = "Engine test module"
    base_permission = "SA_ENGTEST"
    task_types = {
        "asks_for_delay": AsksForDelay,
        "hopeless": Hopeless,
        "pending_until": PendingUntil,
        "chatty": Chatty,
        "counts": Counts,
        "broken_check": BrokenCheck,
    }


@pytest.fixture
def engtest(register_provider):
    return register_provider(EngineTestProvider)


@pytest.fixture
def scheduler_settings(settings):
    """Set SCHEDULER keys for one test; every test gets its own lock key prefix."""

    def configure(**values):
        settings.SCHEDULER = {**settings.SCHEDULER, **values}

    configure(LOCK_PREFIX=f"scheduler:test:{uuid.uuid4().hex}:", RETRY_JITTER=0)
    return configure


@pytest.fixture
def inline(scheduler_settings):
    scheduler_settings(EXECUTION="inline")
    return scheduler_settings


def ago(**kwargs) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


def minute_floor(value: dt.datetime) -> dt.datetime:
    return value.replace(second=0, microsecond=0)


def logs_of(task: ScheduledTask) -> list[TaskExecutionLog]:
    return list(TaskExecutionLog.objects.filter(task=task).order_by("attempt", "pk"))


def one_time(make_task, task_type="record", *, due, **kwargs):
    return make_task(
        task_type,
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(days=1),
        due=due,
        **kwargs,
    )


# -- order and results --------------------------------------------------------------


def test_due_tasks_run_in_priority_then_age_order(inline, make_task):
    e = one_time(make_task, priority=1, due=ago(minutes=5), name="E")
    b = one_time(make_task, priority=1, due=ago(seconds=1), name="B")
    c = one_time(make_task, priority=5, due=ago(minutes=10), name="C")
    a = one_time(make_task, priority=5, due=ago(minutes=1), name="A")
    d = one_time(make_task, priority=9, due=ago(minutes=20), name="D")
    later = one_time(
        make_task, priority=1, due=timezone.now() + dt.timedelta(hours=1), name="later"
    )
    disabled = one_time(make_task, due=ago(minutes=3), name="disabled")
    ScheduledTask.objects.filter(pk=disabled.pk).update(enabled=False)
    paused = one_time(make_task, due=ago(minutes=3), name="paused")
    ScheduledTask.objects.filter(pk=paused.pk).update(status="paused")

    report = run_pass()

    ran = list(Execution.objects.order_by("pk").values_list("task_id", flat=True))
    assert ran == [e.pk, b.pk, c.pk, a.pk, d.pk]
    assert report.by_status == {"success": 5}
    # The injected clock moves the due query forward: the later task is due then.
    run_pass(PassOptions(now=timezone.now() + dt.timedelta(hours=2)))
    assert Execution.objects.filter(task_id=later.pk).count() == 1
    assert not Execution.objects.filter(task_id__in=[disabled.pk, paused.pk]).exists()


def test_success_records_the_run_and_moves_a_recurring_task_to_its_next_slot(inline, make_task):
    slot = minute_floor(timezone.now())
    task = make_task(schedule_type="cron", cron="*/5 * * * *", due=slot)
    before = timezone.now()
    run_pass()
    after = timezone.now()

    task.refresh_from_db()
    assert task.status == "pending"
    assert task.last_status == "success"
    assert before <= task.last_run <= after
    assert task.run_count == 1
    assert task.retry_count == 0 and task.error_message == ""
    assert task.next_run > before and task.next_run.minute % 5 == 0
    assert task.next_run - before <= dt.timedelta(minutes=5)
    assert task.occurrence_at == task.next_run
    assert task.lease_token == "" and task.lease_expires_at is None
    (log,) = logs_of(task)
    assert (log.status, log.attempt, log.scheduled_for) == ("success", 1, slot)
    assert log.result == {"message": "recorded", "data": {"task": task.pk}}
    assert log.finished_at >= log.started_at and log.duration >= 0
    assert log.host and log.pid


def test_one_time_task_finishes_as_success(inline, make_task):
    task = one_time(make_task, due=ago(seconds=2))
    run_pass()
    task.refresh_from_db()
    assert (task.status, task.last_status, task.run_count, task.next_run) == (
        "success",
        "success",
        1,
        None,
    )
    # Finished: a later pass does not run it again.
    run_pass(PassOptions(now=timezone.now() + dt.timedelta(days=30)))
    assert Execution.objects.filter(task_id=task.pk).count() == 1


# -- retries ------------------------------------------------------------------------


def run_due(task: ScheduledTask) -> tuple[dt.datetime, dt.datetime]:
    """Run a pass at the task's next_run (injected clock); return the wall-clock bounds."""
    task.refresh_from_db()
    before = timezone.now()
    run_pass(PassOptions(now=max(task.next_run, before), filters=Filters(task_ids=(task.pk,))))
    after = timezone.now()
    task.refresh_from_db()
    return before, after


def assert_delay(
    task: ScheduledTask, bounds: tuple[dt.datetime, dt.datetime], seconds: float
) -> None:
    delay = dt.timedelta(seconds=seconds)
    assert bounds[0] + delay <= task.next_run <= bounds[1] + delay


def test_failure_retries_with_exponential_backoff_then_fails_a_one_time_task(inline, make_task):
    inline(RETRY_BACKOFF_BASE=10, RETRY_BACKOFF_MAX=25)
    slot = ago(seconds=3)
    task = one_time(make_task, "fail", due=slot, max_retries=3)

    for attempt, delay in ((1, 10), (2, 20), (3, 25)):  # doubled, then capped by the maximum
        bounds = run_due(task)
        assert (task.status, task.last_status, task.retry_count) == ("pending", "failed", attempt)
        assert task.error_message == "it failed on purpose"
        assert task.occurrence_at == slot  # a retry repeats the same occurrence
        assert task.failure_streak == attempt
        assert_delay(task, bounds, delay)

    run_due(task)
    assert (task.status, task.last_status, task.next_run) == ("failed", "failed", None)
    logs = logs_of(task)
    assert [(log.attempt, log.status) for log in logs] == [(n, "failed") for n in (1, 2, 3, 4)]
    assert {log.scheduled_for for log in logs} == {slot}
    assert {log.error_message for log in logs} == {"it failed on purpose"}


def test_backoff_jitter_only_shortens_the_delay(inline, make_task):
    inline(RETRY_BACKOFF_BASE=100, RETRY_BACKOFF_MAX=1000, RETRY_JITTER=0.5)
    task = one_time(make_task, "fail", due=ago(seconds=1), max_retries=2)
    before, after = run_due(task)
    assert before + dt.timedelta(seconds=50) <= task.next_run <= after + dt.timedelta(seconds=100)


def test_the_tasks_own_retry_delay_wins_over_the_backoff(inline, engtest, make_task):
    inline(RETRY_BACKOFF_BASE=600)
    task = one_time(
        make_task, "asks_for_delay", module="engtest", due=ago(seconds=1), max_retries=1
    )
    bounds = run_due(task)
    assert (task.status, task.retry_count) == ("pending", 1)
    assert_delay(task, bounds, 7)


def test_failure_without_retry_is_final_for_a_one_time_task(inline, engtest, make_task):
    task = one_time(make_task, "hopeless", module="engtest", due=ago(seconds=1), max_retries=5)
    run_due(task)
    assert (task.status, task.retry_count, task.error_message) == (
        "failed",
        0,
        "trying again cannot help",
    )


def test_cron_task_with_retries_exhausted_goes_back_to_its_next_slot(inline, make_task):
    inline(RETRY_BACKOFF_BASE=10)
    slot = minute_floor(timezone.now())
    # Hourly, not every 5 minutes: run_due's clock runs ahead by the backoff, and a slot
    # inside that window would be claimed again within the same pass.
    task = make_task("fail", schedule_type="cron", cron="0 * * * *", due=slot, max_retries=1)
    bounds = run_due(task)
    assert (task.status, task.retry_count) == ("pending", 1)
    assert_delay(task, bounds, 10)

    before, _ = run_due(task)
    assert (task.status, task.last_status, task.retry_count) == ("pending", "failed", 0)
    assert task.error_message == "it failed on purpose"
    assert task.next_run > before and task.next_run.minute == 0 and task.next_run.second == 0
    assert task.occurrence_at == task.next_run
    assert [log.attempt for log in logs_of(task)] == [1, 2]


def test_pending_result_makes_a_new_occurrence_later(inline, engtest, make_task):
    inline(RETRY_BACKOFF_BASE=45)
    at = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    told = one_time(
        make_task,
        "pending_until",
        module="engtest",
        config={"at": at.isoformat()},
        due=ago(seconds=1),
    )
    untold = one_time(make_task, "not_yet", due=ago(seconds=1))
    before = timezone.now()
    run_pass()
    after = timezone.now()

    told.refresh_from_db()
    untold.refresh_from_db()
    assert (told.status, told.next_run, told.occurrence_at, told.retry_count) == (
        "pending",
        at,
        at,
        0,
    )
    assert untold.status == "pending" and untold.retry_count == 0
    assert before + dt.timedelta(seconds=45) <= untold.next_run <= after + dt.timedelta(seconds=45)
    assert untold.occurrence_at == untold.next_run
    assert [log.status for log in logs_of(untold)] == ["skipped"]
    # The later occurrence runs as a first attempt of its own slot.
    run_pass(PassOptions(now=at, filters=Filters(task_ids=(told.pk,))))
    told_logs = logs_of(told)
    assert [(log.scheduled_for, log.attempt) for log in told_logs][-1] == (at, 1)
    assert len(told_logs) == 2


# -- isolation: every way a body can end, in worker processes ----------------------------


@pytest.mark.django_db(transaction=True)
def test_raise_exit_crash_and_hang_are_logged_while_others_succeed(scheduler_settings, make_task):
    scheduler_settings(EXECUTION="process", WORKERS=2)
    due = ago(seconds=5)
    tasks = {
        kind: one_time(make_task, kind, due=due, max_retries=0, timeout=1 if kind == "hang" else 30)
        for kind in ("raise", "exit", "hard_exit", "segfault", "hang")
    }
    first = one_time(make_task, "record", due=due, priority=1)
    last = one_time(make_task, "record", due=due, priority=10)

    report = run_pass()

    assert set(Execution.objects.values_list("task_id", flat=True)) == {first.pk, last.pk}
    assert report.by_status == {"success": 2, "failed": 4, "timeout": 1}
    expected = {
        "raise": ("failed", "RuntimeError: boom from the task body"),
        "exit": ("failed", "The task called sys.exit(3)."),
        "hard_exit": ("failed", "The worker process exited with code 7 (os._exit or a crash)."),
        "segfault": ("failed", "The worker process was killed by SIGSEGV."),
        "hang": ("timeout", "Timed out after 1 s; the worker was killed."),
    }
    for kind, task in tasks.items():
        (log,) = logs_of(task)
        assert (log.status, log.error_message) == expected[kind], kind
        assert log.finished_at is not None
        task.refresh_from_db()
        assert (task.status, task.last_status) == ("failed", expected[kind][0]), kind
        assert task.error_message == expected[kind][1]
    assert "Traceback" in logs_of(tasks["raise"])[0].traceback
    assert "boom from the task body" in logs_of(tasks["raise"])[0].traceback
    for task in (first, last):
        (log,) = logs_of(task)
        assert log.status == "success"
        assert log.output == f"recorded {task.pk}\n"
    # The bodies ran in worker processes, not in the scheduler.
    assert os.getpid() not in set(Execution.objects.values_list("pid", flat=True))


def test_captured_output_and_logging_are_stored_and_bounded(inline, engtest, make_task):
    inline(OUTPUT_LIMIT=120)
    small = one_time(make_task, "chatty", module="engtest", config={"size": 10}, due=ago(seconds=1))
    big = one_time(make_task, "chatty", module="engtest", config={"size": 5000}, due=ago(seconds=1))
    run_pass()

    (log,) = logs_of(small)
    assert log.output == "x" * 10 + "\nWARNING engtest.chatty: a warning from the body\n"
    (log,) = logs_of(big)
    assert log.output == "x" * 120 + TRUNCATED
    assert log.status == "success"


# -- bad stored rows ------------------------------------------------------------------


def _uninstalled_module(task):
    ScheduledTask.objects.filter(pk=task.pk).update(module_id="uninstalled")


def _unknown_task_type(task):
    ScheduledTask.objects.filter(pk=task.pk).update(task_type="gone")


def _invalid_config(task):
    ScheduledTask.objects.filter(pk=task.pk).update(config={"count": 0})


def _config_is_a_list(task):
    ScheduledTask.objects.filter(pk=task.pk).update(config=[1, 2, 3])


BAD_ROWS = {
    "uninstalled module": (
        _uninstalled_module,
        "Unknown module 'uninstalled' (known: {known}). Is the module still installed?",
    ),
    "unknown task type": (
        _unknown_task_type,
        "Module 'engtest' has no task type 'gone' (known: asks_for_delay, broken_check, "
        "chatty, counts, hopeless, pending_until). Is the module still installed?",
    ),
    "invalid config": (
        _invalid_config,
        "The stored configuration is no longer valid: "
        "count: Ensure this value is greater than or equal to 1.",
    ),
    "config is a list": (
        _config_is_a_list,
        "The stored configuration is no longer valid: "
        "config: The configuration must be a JSON object.",
    ),
    "can_execute raises": (
        None,
        "The task type's checks raised ValueError: provider bug in can_execute",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_stored_row_fails_its_task_and_the_pass_goes_on(inline, engtest, make_task, case):
    spoil, message = BAD_ROWS[case]
    message = message.replace("{known}", registry.known_modules_text())
    assert "engtest" in message or case != "uninstalled module"
    task_type = "broken_check" if case == "can_execute raises" else "counts"
    config = {} if task_type == "broken_check" else {"count": 3}
    bad = make_task(task_type, module="engtest", config=config, due=ago(seconds=2), priority=1)
    if spoil is not None:
        spoil(bad)
    good = make_task("record", due=ago(seconds=1), priority=9)

    report = run_pass()

    assert Execution.objects.filter(task_id=good.pk).count() == 1
    assert report.by_status == {"failed": 1, "success": 1}
    (log,) = logs_of(bad)
    assert (log.status, log.error_message) == ("failed", message)
    bad.refresh_from_db()
    assert (bad.status, bad.last_status, bad.error_message) == ("failed", "failed", message)
    assert bad.next_run is None and bad.retry_count == 0
    # Marked failed: later passes leave it alone instead of failing it every minute.
    run_pass(
        PassOptions(now=timezone.now() + dt.timedelta(hours=1), filters=Filters(task_ids=(bad.pk,)))
    )
    assert len(logs_of(bad)) == 1


# -- misfires -------------------------------------------------------------------------


def test_run_once_coalesces_missed_slots_into_one_run(inline, make_task):
    slot = minute_floor(timezone.now()) - 10 * MINUTE
    task = make_task(cron="* * * * *", due=slot, misfire_policy="run_once")
    run_pass()

    (log,) = logs_of(task)
    (execution,) = Execution.objects.filter(task_id=task.pk)
    missed = int((log.scheduled_for - slot) / MINUTE)
    assert missed >= 10 and log.scheduled_for == execution.scheduled_for
    assert log.status == "success"
    assert log.result["coalesced_slots"] == missed
    task.refresh_from_db()
    # The next slot after the run (two minutes on if a minute turned during the pass).
    assert task.next_run - log.scheduled_for in (MINUTE, 2 * MINUTE)


def test_skip_policy_skips_missed_slots_and_waits_for_the_next_one(inline, make_task):
    slot = minute_floor(timezone.now()) - 10 * MINUTE
    task = make_task(cron="* * * * *", due=slot, misfire_policy="skip")
    before = timezone.now()
    report = run_pass()

    assert not Execution.objects.filter(task_id=task.pk).exists()
    (log,) = logs_of(task)
    assert log.status == "skipped" and log.scheduled_for == slot
    assert log.result["skipped_slots"] >= 11
    assert "skipped by the skip policy" in log.error_message
    assert report.by_status == {"skipped": 1}
    task.refresh_from_db()
    assert task.status == "pending"
    assert task.next_run - minute_floor(before) in (MINUTE, 2 * MINUTE)


def test_run_all_replays_missed_slots_up_to_the_cap(inline, make_task):
    inline(MISFIRE_RUN_ALL_CAP=3)
    slot = minute_floor(timezone.now()) - 10 * MINUTE
    task = make_task(cron="* * * * *", due=slot, misfire_policy="run_all")
    run_pass()

    ran = sorted(Execution.objects.filter(task_id=task.pk).values_list("scheduled_for", flat=True))
    newest = ran[-1]
    assert ran == [newest - 2 * MINUTE, newest - MINUTE, newest]
    assert newest >= minute_floor(timezone.now()) - MINUTE
    skipped = [log for log in logs_of(task) if log.status == "skipped"]
    assert len(skipped) == 1 and skipped[0].scheduled_for == slot
    assert "more than 3 missed runs" in skipped[0].error_message
    task.refresh_from_db()
    assert task.next_run == newest + MINUTE


def test_run_all_below_the_cap_replays_every_missed_slot(inline, make_task):
    slot = minute_floor(timezone.now()) - 3 * MINUTE
    task = make_task(cron="* * * * *", due=slot, misfire_policy="run_all")
    run_pass()
    ran = sorted(Execution.objects.filter(task_id=task.pk).values_list("scheduled_for", flat=True))
    assert ran[:4] == [slot, slot + MINUTE, slot + 2 * MINUTE, slot + 3 * MINUTE]
    assert not [log for log in logs_of(task) if log.status == "skipped"]


def test_a_run_later_than_the_grace_period_is_skipped_and_logged(inline, make_task):
    late = one_time(make_task, due=ago(minutes=10), misfire_grace=60)
    in_time = one_time(make_task, due=ago(seconds=30), misfire_grace=60)
    run_pass()

    assert list(Execution.objects.values_list("task_id", flat=True)) == [in_time.pk]
    (log,) = logs_of(late)
    assert log.status == "skipped"
    assert log.error_message.startswith("missed by 6") and log.error_message.endswith(
        "beyond the grace of 60 s"
    )
    late.refresh_from_db()
    assert late.last_status == "skipped" and late.next_run is None
    # It never ran: a one-time task whose only run was skipped ends failed, saying why.
    assert late.status == "failed" and "beyond the grace of 60 s" in late.error_message


def test_the_site_grace_applies_when_the_task_has_none(inline, make_task):
    inline(MISFIRE_GRACE=120)
    late = one_time(make_task, due=ago(minutes=5))
    run_pass()
    assert not Execution.objects.exists()
    assert [log.status for log in logs_of(late)] == ["skipped"]


# -- overlap --------------------------------------------------------------------------


def test_allow_overlap_frees_the_next_slot_while_a_run_is_in_progress(inline, make_task):
    # The clock stands still mid-minute: a pass that crosses a minute boundary on a busy
    # machine would otherwise move the next slot one minute further.
    clock = time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False)
    clock.start()
    try:
        _overlap_frees_the_next_slot(make_task)
    finally:
        clock.stop()


def _overlap_frees_the_next_slot(make_task):
    slot = minute_floor(timezone.now())
    overlapping = make_task(cron="* * * * *", due=slot, allow_overlap=True)
    exclusive = make_task(cron="* * * * *", due=slot)
    seen = {}

    def look(sender, task, log, **kwargs):
        seen[task.pk] = ScheduledTask.objects.values("status", "next_run").get(pk=task.pk)

    signals.task_executing.connect(look)
    try:
        run_pass()
    finally:
        signals.task_executing.disconnect(look)

    # While its run is in flight the overlapping task waits for its next slot, claimable again.
    assert seen[overlapping.pk] == {"status": "pending", "next_run": slot + MINUTE}
    assert seen[exclusive.pk]["status"] == "running"
    for task in (overlapping, exclusive):
        task.refresh_from_db()
        assert (task.status, task.last_status, task.run_count) == ("pending", "success", 1)
        assert task.next_run == slot + MINUTE


def test_allow_overlap_ignores_a_held_lock(inline, make_task):
    overlapping = make_task(due=ago(seconds=1), allow_overlap=True)
    exclusive = make_task(due=ago(seconds=1))
    got, _ = locks.acquire_many({overlapping.pk: 30, exclusive.pk: 30}, "another-scheduler")
    assert got == {overlapping.pk, exclusive.pk}
    try:
        run_pass()
    finally:
        locks.clear_lock(overlapping.pk)
        locks.clear_lock(exclusive.pk)
    assert list(Execution.objects.values_list("task_id", flat=True)) == [overlapping.pk]


# -- the lock -------------------------------------------------------------------------


def test_a_task_whose_lock_is_held_is_left_pending_until_the_lock_is_cleared(inline, make_task):
    task = make_task(due=ago(seconds=1))
    got, degraded = locks.acquire_many({task.pk: 30}, "another-scheduler")
    assert got == {task.pk} and not degraded
    try:
        assert locks.is_locked(task.pk)
        report = run_pass()
        assert not Execution.objects.exists()
        assert report.executed == 0
        task.refresh_from_db()
        assert (task.status, task.lease_token, task.run_count) == ("pending", "", 0)
        assert not TaskExecutionLog.objects.exists()

        assert locks.clear_lock(task.pk) is True
        assert not locks.is_locked(task.pk)
    finally:
        locks.clear_lock(task.pk)
    run_pass()
    assert Execution.objects.filter(task_id=task.pk).count() == 1
    assert not locks.is_locked(task.pk)  # released once the run was recorded


# -- signals --------------------------------------------------------------------------


def test_lifecycle_and_module_signals_carry_the_task_and_its_log(inline, make_task):
    ok = one_time(make_task, due=ago(seconds=2), priority=1)
    bad = one_time(make_task, "fail", due=ago(seconds=1), priority=2, max_retries=0)
    received = []

    def receiver_for(name):
        def receive(sender, task, log, **kwargs):
            received.append((name, task.pk, task.module_id, log.pk, log.status, task.last_status))

        return receive

    receivers = {
        "executing": (signals.task_executing, receiver_for("executing")),
        "executed": (signals.task_executed, receiver_for("executed")),
        "succeeded": (signals.task_succeeded, receiver_for("succeeded")),
        "failed": (signals.task_failed, receiver_for("failed")),
        "testmod.executed": (
            signals.module_signal("testmod", "task.executed"),
            receiver_for("testmod.executed"),
        ),
        "reports.executed": (
            signals.module_signal("reports", "task.executed"),
            receiver_for("reports.executed"),
        ),
    }
    for sig, receiver in receivers.values():
        sig.connect(receiver)
    try:
        run_pass()
    finally:
        for sig, receiver in receivers.values():
            sig.disconnect(receiver)

    ok_log, bad_log = logs_of(ok)[0].pk, logs_of(bad)[0].pk
    assert received == [
        ("executing", ok.pk, "testmod", ok_log, "running", ""),
        ("executing", bad.pk, "testmod", bad_log, "running", ""),
        ("executed", ok.pk, "testmod", ok_log, "success", "success"),
        ("testmod.executed", ok.pk, "testmod", ok_log, "success", "success"),
        ("succeeded", ok.pk, "testmod", ok_log, "success", "success"),
        ("executed", bad.pk, "testmod", bad_log, "failed", "failed"),
        ("testmod.executed", bad.pk, "testmod", bad_log, "failed", "failed"),
        ("failed", bad.pk, "testmod", bad_log, "failed", "failed"),
    ]


# -- the pass as a whole ----------------------------------------------------------------


def test_the_pass_uses_a_constant_number_of_queries(inline, make_task, monkeypatch):
    # No wall clock: the clock stands still (no minute boundary makes the first tasks due
    # again), and no flush or lease renewal is triggered by how long a busy machine takes.
    from scheduler_app.engine import passes

    inline(LEASE_SECONDS=3600)
    monkeypatch.setattr(passes, "FLUSH_SECONDS", float("inf"))
    clock = time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False)
    clock.start()
    # One claim takes all of them (the pacer's first claim is bigger than 50): the
    # queries of a pass must not grow with the tasks in a batch.
    monkeypatch.setattr(ClaimPacer, "PER_WORKER", 100)

    def due_noops(count):
        for _ in range(count):
            make_task("noop", cron="0 0 1 1 *", due=ago(seconds=1))  # not due again soon

    def queries_of_a_pass():
        with CaptureQueriesContext(connection) as ctx:
            report = run_pass()
        return len(ctx.captured_queries), report.executed

    try:
        due_noops(5)
        few = queries_of_a_pass()
        due_noops(50)
        many = queries_of_a_pass()
    finally:
        clock.stop()
    assert few[1] == 5 and many[1] == 50
    assert few[0] == many[0]


def test_dry_run_claims_nothing(inline, make_task):
    task = make_task(due=ago(seconds=1))
    report = run_pass(PassOptions(dry_run=True))
    assert [row["id"] for row in report.due_preview] == [task.pk]
    assert report.claimed == 0 and report.executed == 0
    task.refresh_from_db()
    assert (task.status, task.lease_token, task.run_count) == ("pending", "", 0)
    assert not TaskExecutionLog.objects.exists() and not Execution.objects.exists()


def test_an_expired_lease_is_closed_as_abandoned_and_retried_next_pass(inline, make_task):
    inline(RETRY_BACKOFF_BASE=30)
    slot = ago(minutes=3)
    task = one_time(make_task, due=slot)
    started = slot + dt.timedelta(seconds=5)
    ScheduledTask.objects.filter(pk=task.pk).update(
        status="running",
        lease_owner="gone-host:4242",
        lease_token="d" * 32,
        lease_expires_at=ago(seconds=10),
    )
    open_log = TaskExecutionLog.objects.create(
        task=task,
        run_id="r" * 32,
        scheduled_for=slot,
        attempt=1,
        status="running",
        started_at=started,
    )
    # A live lease is left alone.
    live = one_time(make_task, due=slot)
    ScheduledTask.objects.filter(pk=live.pk).update(
        status="running", lease_token="l" * 32, lease_expires_at=timezone.now() + MINUTE
    )

    before = timezone.now()
    report = run_pass()
    after = timezone.now()

    assert report.recovered == 1
    open_log.refresh_from_db()
    assert open_log.status == "abandoned"
    assert "stopped renewing its lease" in open_log.error_message
    assert open_log.finished_at is not None and open_log.duration > 0
    task.refresh_from_db()
    assert (task.status, task.retry_count, task.last_status, task.lease_token) == (
        "pending",
        1,
        "abandoned",
        "",
    )
    assert task.occurrence_at == slot
    assert before + dt.timedelta(seconds=30) <= task.next_run <= after + dt.timedelta(seconds=30)
    assert ScheduledTask.objects.get(pk=live.pk).status == "running"

    run_pass(PassOptions(now=task.next_run))
    (execution,) = Execution.objects.filter(task_id=task.pk)
    assert (execution.scheduled_for, execution.attempt) == (slot, 2)
    assert [(log.attempt, log.status) for log in logs_of(task)] == [
        (1, "abandoned"),
        (2, "success"),
    ]
    task.refresh_from_db()
    assert (task.status, task.last_status) == ("success", "success")


def test_max_tasks_limits_the_claim(inline, make_task):
    tasks = [make_task(due=ago(seconds=1)) for _ in range(4)]
    report = run_pass(PassOptions(max_tasks=3))
    assert report.claimed == 3
    assert sorted(Execution.objects.values_list("task_id", flat=True)) == [t.pk for t in tasks[:3]]


pytestmark = pytest.mark.django_db


def test_a_slot_filter_that_fails_in_the_database_does_not_break_the_claim(inline, make_task):
    from scheduler_app.engine import hooks

    def broken_filter(rows, now):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_of_a_feature")
        return {}

    hooks.register_slot_filter(broken_filter)
    try:
        task = make_task(due=ago(seconds=1))
        report = run_pass()
    finally:
        hooks.slot_filters.remove(broken_filter)
    assert report.by_status == {"success": 1}
    assert Execution.objects.filter(task_id=task.pk).count() == 1


def test_the_slot_filters_after_a_failed_one_still_decide(inline, make_task):
    from scheduler_app.engine import hooks

    def broken_filter(rows, now):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_of_a_feature")
        return {}

    def freeze_filter(rows, now):
        return {row["id"]: "frozen by a test filter" for row in rows if row["name"] == "frozen"}

    hooks.slot_filters[:0] = [broken_filter, freeze_filter]  # before the built-in ones
    try:
        frozen = make_task(due=ago(seconds=1), name="frozen")
        free = make_task(due=ago(seconds=1), name="free")
        report = run_pass()
    finally:
        hooks.slot_filters.remove(broken_filter)
        hooks.slot_filters.remove(freeze_filter)
    assert report.by_status == {"success": 1, "skipped": 1}
    assert list(Execution.objects.values_list("task_id", flat=True)) == [free.pk]
    skipped = TaskExecutionLog.objects.get(task=frozen)
    assert (skipped.status, skipped.error_message) == ("skipped", "frozen by a test filter")


@pytest.mark.django_db
@examples(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    leases=st.lists(
        st.tuples(st.sampled_from(["running", "pending"]), st.integers(-90, 90)), max_size=4
    )
)
def test_the_passes_expired_lease_question_agrees_with_lease_expired(make_task, leases):
    from scheduler_app.engine import claiming

    ScheduledTask.objects.all().delete()
    now = timezone.now().replace(microsecond=0)
    for status, seconds in leases:
        task = make_task("noop")
        ScheduledTask.objects.filter(pk=task.pk).update(
            status=status, lease_expires_at=now + dt.timedelta(seconds=seconds)
        )
    for at in (now, *(now + dt.timedelta(seconds=s) for _status, s in leases)):
        assert claiming.any_expired(at) == ScheduledTask.objects.lease_expired(at).exists()

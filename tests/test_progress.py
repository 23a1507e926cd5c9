"""context.progress(): validated, throttled writes to the run's log row, in every execution mode."""

from __future__ import annotations

import datetime as dt
import math
import threading
import uuid

import pytest
from django import forms
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduler_app import SchedulableTask, TaskProvider, TaskResult
from scheduler_app.context import TaskContext
from scheduler_app.engine import progress
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.engine.progress import ProgressReporter, count, write_progress
from scheduler_app.models import RunStatus, TaskExecutionLog


class StepsForm(forms.Form):
    steps = forms.IntegerField(min_value=1, max_value=1_000_000)


class Steps(SchedulableTask):
    """Reports each step; returns what its own log row said after the first report."""

    name = "Counts steps"
    config_form = StepsForm

    def execute(self, context):
        steps = context.config["steps"]
        print("starting the steps")
        seen = None
        for step in range(1, steps + 1):
            context.progress(step, steps, f"step {step}")
            if step == 1:  # the first report is written at once: visible while the run goes on
                seen = (
                    TaskExecutionLog.objects.filter(run_id=context.run_id)
                    .values("progress_done", "progress_total", "progress_message", "output")
                    .get()
                )
        return TaskResult.success(data={"seen": seen})


class BadProgress(SchedulableTask):
    name = "Reports nonsense"

    def execute(self, context):
        context.progress("half", 10)
        return TaskResult.success()  # pragma: no cover - progress() raised


class ProgressTestProvider(TaskProvider):
    module_id = "progtest"
    name = "Progress test module"
    base_permission = "SA_PROGTEST"
    task_types = {"steps": Steps, "bad": BadProgress}


@pytest.fixture
def scheduler_settings(settings):
    def configure(**values):
        settings.SCHEDULER = {**settings.SCHEDULER, **values}

    configure(LOCK_PREFIX=f"scheduler:test:{uuid.uuid4().hex}:", RETRY_JITTER=0)
    return configure


@pytest.fixture
def inline(scheduler_settings):
    scheduler_settings(EXECUTION="inline")
    return scheduler_settings


@pytest.fixture
def progtest(register_provider):
    return register_provider(ProgressTestProvider)


class ManualClock:
    """The throttle's clock, advanced by the test: a tick per interval passed, no waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.running = False

    def __call__(self, interval, tick):  # noqa: ANN001, ANN204
        self.interval, self.tick, self.next_tick, self.running = interval, tick, interval, True
        self.started = self.now

        def stop() -> None:
            self.running = False

        return stop

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while self.running and self.now - self.started >= self.next_tick:
            self.next_tick += self.interval
            self.tick()


class NeverTicks(ManualClock):
    """A clock that stands still for the whole run."""


def open_log(task) -> TaskExecutionLog:  # noqa: ANN001
    return TaskExecutionLog.objects.create(
        task=task, run_id="r1", scheduled_for=timezone.now(), status=RunStatus.RUNNING
    )


def progress_updates(ctx: CaptureQueriesContext) -> int:
    return sum(
        1
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and 'SET "progress_done"' in q["sql"]
    )


# -- the throttle ---------------------------------------------------------------------


def test_a_hundred_thousand_calls_make_a_bounded_number_of_writes(make_task):
    log = open_log(make_task("noop"))
    clock = ManualClock()
    reporter = ProgressReporter(log.pk, interval=1.0, clock=clock)
    with CaptureQueriesContext(connection) as ctx:
        for done in range(1, 100_001):
            reporter(done, 100_000, "rows")
            clock.advance(0.0001)  # 100,000 calls 0.1 ms apart: ten seconds at a write a second
        reporter.finish()
    assert 10 <= progress_updates(ctx) <= 12
    assert reporter.writes == progress_updates(ctx)
    assert not clock.running  # finish() stopped the clock
    log.refresh_from_db()
    assert (log.progress_done, log.progress_total, log.progress_message) == (
        100_000,
        100_000,
        "rows",
    )
    assert log.progress_at is not None


def test_a_clock_that_stands_still_writes_the_first_report_and_the_last(make_task):
    log = open_log(make_task("noop"))
    reporter = ProgressReporter(log.pk, interval=1.0, clock=NeverTicks())
    with CaptureQueriesContext(connection) as ctx:
        for done in range(100_000):
            reporter(done)
        reporter.finish()
    assert progress_updates(ctx) == 2
    log.refresh_from_db()
    assert (log.progress_done, log.progress_total) == (99_999, None)


def test_the_interval_is_the_setting_and_has_a_floor(make_task):
    log = open_log(make_task("noop"))
    slow_clock = ManualClock()
    slow = ProgressReporter(log.pk, interval=5.0, clock=slow_clock)
    for done in range(1000):  # ten seconds
        slow(done, 1000)
        slow_clock.advance(0.01)
    assert slow_clock.interval == 5.0
    assert slow.writes == 2  # at 0 s and at the first call after 5 s
    floor_clock = ManualClock()
    floor = ProgressReporter(log.pk, interval=0, clock=floor_clock)
    floor(0, 1)
    assert floor.interval == floor_clock.interval == progress.MIN_INTERVAL


def test_nothing_held_back_means_no_write_at_the_end(make_task):
    log = open_log(make_task("noop"))
    clock = ManualClock()
    reporter = ProgressReporter(log.pk, interval=1.0, clock=clock)
    reporter(1, 2)
    clock.advance(2.0)
    reporter(2, 2)
    reporter.finish()
    assert reporter.writes == 2


def test_the_default_clock_ticks_from_a_thread_until_stopped():
    ticked = threading.Event()
    stop = progress.thread_clock(0.01, ticked.set)
    try:
        assert ticked.wait(10)  # a generous bound: this only waits for the first tick
    finally:
        stop()


def test_a_finished_run_is_not_written_to(make_task):
    log = open_log(make_task("noop"))
    TaskExecutionLog.objects.filter(pk=log.pk).update(status=RunStatus.SUCCESS)
    assert write_progress(log.pk, 5, 10, "late", None) is False
    log.refresh_from_db()
    assert log.progress_done is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("half", "done must be a number, not str"),
        (True, "done must be a number, not bool"),
        (-1, "done must be between 0 and"),
        (math.nan, "done must be a finite number"),
        (math.inf, "done must be a finite number"),
        (2**64, "done must be between 0 and"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(value, message):
    with pytest.raises(ValueError, match=message):
        count(value, "done")


def test_numbers_are_whole_and_a_long_message_is_cut(make_task):
    log = open_log(make_task("noop"))
    reporter = ProgressReporter(log.pk, interval=1.0, clock=ManualClock())
    reporter(2.9, 10.0, "m" * 1000)
    log.refresh_from_db()
    assert (log.progress_done, log.progress_total) == (2, 10)
    assert len(log.progress_message) <= progress.MESSAGE_LIMIT


def test_a_context_built_by_hand_ignores_progress():
    context = TaskContext(
        task_id=1, module_id="m", task_type="t", name="n", config={}, scheduled_for=None
    )
    context.progress(1, 2, "nowhere")  # no engine, no error


# -- each execution mode ----------------------------------------------------------------


def due_steps(make_task, steps: int):  # noqa: ANN001
    past = timezone.now() - dt.timedelta(seconds=5)
    return make_task("steps", module="progtest", due=past, config={"steps": steps})


def assert_reported(task, steps: int) -> None:  # noqa: ANN001
    log = task.logs.get()
    assert log.status == RunStatus.SUCCESS, log.error_message
    assert (log.progress_done, log.progress_total, log.progress_message) == (
        steps,
        steps,
        f"step {steps}",
    )
    seen = log.result["seen"]
    assert (seen["progress_done"], seen["progress_total"]) == (1, steps)
    assert seen["progress_message"] == "step 1"
    assert "starting the steps" in seen["output"]  # the output so far goes with it


def test_inline_a_body_reports_progress_and_its_row_shows_it_while_it_runs(
    progtest, make_task, inline, monkeypatch
):
    clock = NeverTicks()
    monkeypatch.setattr(progress, "clock", clock)
    task = due_steps(make_task, 100_000)
    with CaptureQueriesContext(connection) as ctx:
        run_pass(PassOptions())
    assert_reported(task, 100_000)
    assert progress_updates(ctx) == 2  # the first report and the last: the clock never ticked
    assert not clock.running


@pytest.mark.django_db(transaction=True)
def test_in_worker_processes_a_body_reports_progress(progtest, make_task, scheduler_settings):
    scheduler_settings(EXECUTION="process", WORKERS=1)
    task = due_steps(make_task, 500)
    run_pass(PassOptions())
    assert_reported(task, 500)


@pytest.mark.django_db(transaction=True)
def test_on_the_tasks_framework_a_body_reports_progress(progtest, make_task, settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "tasks",
        "TASKS_BACKEND": "db",
        "RETRY_JITTER": 0,
    }
    task = due_steps(make_task, 500)
    run_pass(PassOptions())
    call_command("db_worker", "--batch", "--backend", "db", "--no-startup-delay", verbosity=0)
    assert_reported(task, 500)


def test_a_bad_progress_call_fails_the_run_and_says_why(progtest, make_task, inline):
    past = timezone.now() - dt.timedelta(seconds=5)
    task = make_task("bad", module="progtest", due=past, max_retries=0)
    run_pass(PassOptions())
    log = task.logs.get()
    assert log.status == RunStatus.FAILED
    assert "progress(): done must be a number, not str." in log.error_message


@pytest.mark.parametrize("setting", ["fast", None, True])
def test_a_bad_interval_setting_falls_back_to_the_default_and_is_a_system_check(
    setting, scheduler_settings
):
    from scheduler_app.checks import check_settings

    scheduler_settings(PROGRESS_INTERVAL=setting)
    assert progress.ProgressReporter(1, interval=setting).interval == progress.DEFAULT_INTERVAL
    errors = [e for e in check_settings() if "PROGRESS_INTERVAL" in e.msg]
    assert [e.id for e in errors] == ["scheduler_app.E013"]


def test_an_endless_interval_is_read_as_the_default():
    # No clock thread can wait forever (Event.wait refuses it); the default keeps runs going.
    assert progress.ProgressReporter(1, interval=math.inf).interval == progress.DEFAULT_INTERVAL

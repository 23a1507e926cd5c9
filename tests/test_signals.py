"""A project's signal receiver that raises never breaks what was already committed.

Every signal scheduler_app sends goes out after the change it announces was committed
(a run recorded, a task scheduled or cancelled). A receiver that raises is logged with
its name; the service call returns, the pass records every run, other receivers hear.
"""

from __future__ import annotations

import datetime as dt
import logging
import pathlib
import re
import uuid

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import services, signals
from scheduler_app.engine.passes import run_pass
from scheduler_app.models import ScheduledTask, TaskExecutionLog, TaskStatus

pytestmark = pytest.mark.django_db

EXCEPTIONS = [ValueError, RuntimeError, KeyError, TypeError, ZeroDivisionError, LookupError]


class ReceiverBug(Exception):
    """An exception a project's receiver raises."""


def failing_receiver(sender, **kwargs):
    raise ReceiverBug("the project's receiver is broken")


class Listener:
    """Connect receivers for one test and always disconnect them."""

    def __init__(self):
        self.connected: list[tuple[signals.Signal, str]] = []
        self.heard: list[tuple[str, int]] = []

    def raising(self, signal, exc: BaseException | None = None):
        def receive(sender, **kwargs):
            raise exc or ReceiverBug("boom")

        return self._connect(signal, receive)

    def hearing(self, signal, name: str):
        def receive(sender, task, **kwargs):
            self.heard.append((name, task.pk))

        return self._connect(signal, receive)

    def _connect(self, signal, receiver):
        uid = uuid.uuid4().hex
        signal.connect(receiver, weak=False, dispatch_uid=uid)
        self.connected.append((signal, uid))
        return receiver

    def close(self):
        for signal, uid in self.connected:
            signal.disconnect(dispatch_uid=uid)


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def inline(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
        "RETRY_JITTER": 0,
    }


def new_task(**kwargs) -> ScheduledTask:
    kwargs.setdefault("module", "testmod")
    kwargs.setdefault("task_type", "record")
    kwargs.setdefault("schedule_type", "cron")
    kwargs.setdefault("cron", "0 6 * * *")
    kwargs.setdefault("config", {"note": "hello"})
    return services.schedule(user=None, **kwargs)


def due_task(task_type="record", **kwargs) -> ScheduledTask:
    task = new_task(task_type=task_type, **kwargs)
    due = timezone.now() - dt.timedelta(seconds=5)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=due, occurrence_at=due)
    return task


# -- the services -------------------------------------------------------------------


def test_a_raising_scheduled_receiver_does_not_undo_the_schedule_call(
    listener, caplog, django_capture_on_commit_callbacks
):
    receiver = listener.raising(signals.task_scheduled)
    listener.hearing(signals.task_scheduled, "after")
    with caplog.at_level(logging.ERROR, logger="scheduler_app.signals"):
        with django_capture_on_commit_callbacks(execute=True):
            task = new_task()
    assert ScheduledTask.objects.filter(pk=task.pk).exists()
    assert listener.heard == [("after", task.pk)]
    [record] = [r for r in caplog.records if r.name == "scheduler_app.signals"]
    assert signals.receiver_name(receiver) in record.getMessage()
    assert "task.scheduled" in record.getMessage() and "ReceiverBug" in record.getMessage()
    assert record.exc_info is not None


def test_a_raising_cancelled_receiver_does_not_undo_the_cancel_call(
    listener, caplog, django_capture_on_commit_callbacks
):
    task = new_task()
    twin = signals.module_signal("testmod", "task.cancelled")
    listener.raising(signals.task_cancelled)
    listener.raising(twin, KeyError("twin"))
    listener.hearing(twin, "twin")
    with caplog.at_level(logging.ERROR, logger="scheduler_app.signals"):
        with django_capture_on_commit_callbacks(execute=True):
            returned = services.cancel(task, user=None)
    assert returned.status == TaskStatus.CANCELLED
    assert ScheduledTask.objects.get(pk=task.pk).status == TaskStatus.CANCELLED
    assert listener.heard == [("twin", task.pk)]
    messages = [r.getMessage() for r in caplog.records if r.name == "scheduler_app.signals"]
    assert len(messages) == 2
    assert "testmod.task.cancelled" in messages[1] and "KeyError" in messages[1]


def test_the_receiver_is_named_by_module_and_qualified_name():
    class Project:
        def on_executed(self, sender, **kwargs):
            pass

    assert signals.receiver_name(failing_receiver) == "tests.test_signals.failing_receiver"
    assert signals.receiver_name(Project().on_executed).endswith(
        "test_the_receiver_is_named_by_module_and_qualified_name.<locals>.Project.on_executed"
    )


# -- the engine's pass ----------------------------------------------------------------

RUN_SIGNALS = {
    "task.executing": signals.task_executing,
    "task.executed": signals.task_executed,
    "task.succeeded": signals.task_succeeded,
    "task.failed": signals.task_failed,
}


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raising=st.sets(st.sampled_from([*RUN_SIGNALS, "testmod.task.executed"]), min_size=1),
    exc_type=st.sampled_from(EXCEPTIONS),
)
def test_raising_run_receivers_never_break_the_pass_or_other_runs(inline, raising, exc_type):
    listener = Listener()
    try:
        ok = due_task(priority=1)
        bad = due_task("fail", priority=2, max_retries=0)
        for name in raising:
            signal = RUN_SIGNALS.get(name) or signals.module_signal("testmod", "task.executed")
            listener.raising(signal, exc_type("receiver bug"))
        listener.hearing(signals.task_executed, "executed")
        run_pass()
        # Both runs were recorded as they ended, and the later receiver heard of both.
        assert [log.status for log in TaskExecutionLog.objects.filter(task=ok)] == ["success"]
        assert [log.status for log in TaskExecutionLog.objects.filter(task=bad)] == ["failed"]
        assert sorted(listener.heard) == sorted([("executed", ok.pk), ("executed", bad.pk)])
    finally:
        listener.close()
        ScheduledTask.objects.filter(pk__in=[ok.pk, bad.pk]).delete()


def test_a_raising_receiver_is_logged_with_its_name_by_the_pass(inline, listener, caplog):
    due_task()
    receiver = listener.raising(signals.task_executing)
    with caplog.at_level(logging.ERROR, logger="scheduler_app.signals"):
        run_pass()
    [message] = [r.getMessage() for r in caplog.records if r.name == "scheduler_app.signals"]
    assert signals.receiver_name(receiver) in message and "task.executing" in message


# -- the class: no plain send anywhere ---------------------------------------------------


def test_no_module_sends_a_signal_that_a_raising_receiver_could_break():
    """Every send goes through ``signals.send_robustly``: a plain ``.send(sender=...)``
    or ``send_robust`` without the logging would come back with a new send site."""
    root = pathlib.Path(signals.__file__).parent
    plain = re.compile(r"\.send\(\s*sender\s*=|\.asend\(")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if plain.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []

"""What a body returns, raises or prints never hurts another run, in every execution mode.

Each case is a body that hands back something a database refuses or Python
cannot pickle or print. The pass must record that run (stored in a form both
databases accept, or failed with a clear message) and every other run as it
ended, and the scheduler must go on.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from scheduler_app import SchedulableTask, TaskProvider, TaskResult
from scheduler_app.engine import recording
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from tests.odd_values import (
    DictWhoseItemsRaise,
    NotPicklable,
    Opaque,
    OwnBaseException,
    ReprRaises,
    StrRaises,
    StrSubclass,
    Unpicklable,
    assert_readable,
    nested,
)
from tests.testapp.models import Execution

# -- bodies --------------------------------------------------------------------------


def circular() -> dict:
    value: dict = {"name": "loop"}
    value["self"] = value
    return value


def raise_(exc: BaseException) -> Callable[[], Any]:
    def body() -> Any:
        raise exc

    return body


def printing(text: str) -> Callable[[], Any]:
    def body() -> TaskResult:
        print(text)
        return TaskResult.success("printed")

    return body


def success(message: Any = None, data: Any = None) -> Callable[[], TaskResult]:
    return lambda: TaskResult.success(message, data=data)


# Results a database or pickle refuses: each run ends in the log, stored as given in a
# form both databases accept (its status kept), with the exact stored value expected.
STORED: dict[str, tuple[Callable[[], Any], str, Any]] = {
    "tuple keys": (
        success("x", {(1, 2): "x"}),
        "success",
        {"message": "x", "data": {"(1, 2)": "x"}},
    ),
    "nan and infinity": (
        success(data={"n": float("nan"), "p": float("inf"), "m": float("-inf")}),
        "success",
        {"n": "NaN", "p": "Infinity", "m": "-Infinity"},
    ),
    "a set": (success(data={"s": {3, 1, 2}}), "success", {"s": [1, 2, 3]}),
    "bytes": (success(data=b"ab\x00\xff"), "success", "ab\ufffd\ufffd"),
    "dates and decimals": (
        success(
            data={
                "at": dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC),
                "d": decimal.Decimal("1.50"),
                "u": uuid.UUID(int=1),
            }
        ),
        "success",
        {
            "at": "2026-06-01T12:00:00Z",
            "d": "1.50",
            "u": "00000000-0000-0000-0000-000000000001",
        },
    ),
    "an object without repr": (success(data=[Opaque()]), "success", ["<unrepresentable Opaque>"]),
    "an object that cannot be pickled": (
        success(data={"f": Unpicklable()}),
        "success",
        {"f": "Unpicklable()"},
    ),
    "a str subclass that cannot be pickled": (
        success(StrSubclass("odd"), {"k": StrSubclass("v")}),
        "success",
        {"message": "odd", "data": {"k": "v"}},
    ),
    "a dict whose items() raise": (
        success(data=DictWhoseItemsRaise(a=1)),
        "success",
        {"a": 1},
    ),
    "a message that is not a str": (success(12345), "success", {"message": "12345"}),
    "a message without str()": (
        success(Opaque()),
        "success",
        {"message": "<unrepresentable Opaque>"},
    ),
    "a lone surrogate": (
        success("a\ud800b", {"k\udfff": "v\ud800"}),
        "success",
        {"message": "a\ufffdb", "data": {"k\ufffd": "v\ufffd"}},
    ),
    "NUL characters": (
        success("a\x00b", {"k\x00": "v\x00"}),
        "success",
        {"message": "a\ufffdb", "data": {"k\ufffd": "v\ufffd"}},
    ),
    "a circular structure": (
        success(data=circular()),
        "success",
        {"name": "loop", "self": "<circular reference>"},
    ),
    "a huge integer": (success(data=[10**5000]), "success", ["<integer of 16610 bits>"]),
}

# Bodies that fail: the run is failed with a clear message naming what happened.
FAILED: dict[str, tuple[Callable[[], Any], str]] = {
    "an exception whose str() raises": (
        raise_(StrRaises()),
        "tests.odd_values.StrRaises (its message could not be read)",
    ),
    "an exception whose str() and repr() raise": (
        raise_(ReprRaises()),
        "tests.odd_values.ReprRaises (its message could not be read)",
    ),
    "an exception that cannot be pickled": (
        raise_(NotPicklable("pickle me not")),
        "tests.odd_values.NotPicklable: pickle me not",
    ),
    "KeyboardInterrupt": (raise_(KeyboardInterrupt()), "The task raised KeyboardInterrupt"),
    "GeneratorExit": (raise_(GeneratorExit()), "The task raised GeneratorExit"),
    "a BaseException of its own": (
        raise_(OwnBaseException("deep")),
        "The task raised tests.odd_values.OwnBaseException: deep",
    ),
    "sys.exit with a code whose repr raises": (
        raise_(SystemExit(Opaque())),
        "The task called sys.exit(<unrepresentable Opaque>).",
    ),
    "an exception message with NUL and a surrogate": (
        raise_(ValueError("bad\x00\ud800")),
        "ValueError: bad\ufffd\ufffd",
    ),
    "a failure whose message is not a str": (
        lambda: TaskResult.failure(Opaque(), retry=False),
        "<unrepresentable Opaque>",
    ),
    "not a TaskResult": (lambda: {"plain": "dict"}, "execute() returned dict, not a TaskResult."),
}
# Of those, the bodies that raised: their traceback is kept.
RAISING = [
    name
    for name in FAILED
    if name not in ("a failure whose message is not a str", "not a TaskResult")
]

BODIES: dict[str, Callable[[], Any]] = {
    **{name: body for name, (body, _s, _v) in STORED.items()},
    **{name: body for name, (body, _m) in FAILED.items()},
}


class BodyForm(forms.Form):
    case = forms.CharField()


class Body(SchedulableTask):
    name = "Runs one of the odd bodies"
    config_form = BodyForm

    def execute(self, context):
        return BODIES[context.config["case"]]()


class IsolationProvider(TaskProvider):
    module_id = "isotest"
    name = "Isolation test module"
    base_permission = "SA_ISOTEST"
    task_types = {"body": Body}


@pytest.fixture
def isotest(register_provider):
    return register_provider(IsolationProvider)


@pytest.fixture
def mode(settings):
    def configure(execution: str, **more: Any) -> None:
        settings.SCHEDULER = {
            **settings.SCHEDULER,
            "EXECUTION": execution,
            "WORKERS": 2,
            "RETRY_JITTER": 0,
            "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
            **more,
        }

    return configure


def due() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=5)


def schedule_cases(make_task, cases) -> dict[str, ScheduledTask]:  # noqa: ANN001
    return {
        case: make_task(
            "body",
            module="isotest",
            schedule_type="one_time",
            cron=None,
            run_at=timezone.now() + dt.timedelta(days=1),
            due=due(),
            config={"case": case},
            max_retries=0,
        )
        for case in cases
    }


def controls(make_task, count: int = 3) -> list[ScheduledTask]:  # noqa: ANN001
    return [make_task("record", due=due(), priority=p) for p in (1, 5, 10)[:count]]


def assert_controls_succeeded(tasks: list[ScheduledTask]) -> None:
    for task in tasks:
        (log,) = task.logs.all()
        assert log.status == RunStatus.SUCCESS
        assert Execution.objects.filter(task_id=task.pk).count() == 1
        task.refresh_from_db()
        assert task.status != "running" and task.last_status == "success"


def assert_all_over() -> None:
    assert not ScheduledTask.objects.filter(status="running").exists()
    assert not TaskExecutionLog.objects.filter(status__in=["running", "enqueued"]).exists()


def check_stored(tasks: dict[str, ScheduledTask]) -> None:
    for case, task in tasks.items():
        (log,) = task.logs.all()
        _body, status, expected = STORED[case]
        assert log.status == status, (case, log.error_message)
        assert log.result == expected, case
        assert_readable(log)


def check_failed(tasks: dict[str, ScheduledTask]) -> None:
    for case, task in tasks.items():
        (log,) = task.logs.all()
        _body, message = FAILED[case]
        assert (log.status, log.error_message) == ("failed", message), case
        assert_readable(log)
        task.refresh_from_db()
        assert task.last_status == "failed" and task.error_message == message[:4000], case


# -- inline (--workers 0) -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(STORED))
def test_an_unstorable_result_is_stored_in_a_form_both_databases_accept_inline(
    isotest, mode, make_task, case
):
    mode("inline")
    odd = schedule_cases(make_task, [case])
    others = controls(make_task)

    report = run_pass(PassOptions())

    assert report.by_status == {"success": 4}
    check_stored(odd)
    assert_controls_succeeded(others)
    assert_all_over()


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(FAILED))
def test_a_body_that_raises_anything_fails_alone_inline(isotest, mode, make_task, case):
    mode("inline")
    odd = schedule_cases(make_task, [case])
    others = controls(make_task)

    report = run_pass(PassOptions())

    assert report.by_status == {"success": 3, "failed": 1}
    check_failed(odd)
    if case in RAISING:
        (log,) = odd[case].logs.all()
        assert log.traceback.startswith("Traceback")
    assert_controls_succeeded(others)
    assert_all_over()


# -- worker processes ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_odd_body_is_recorded_and_the_others_succeed_in_worker_processes(
    isotest, mode, make_task
):
    mode("process")
    stored = schedule_cases(make_task, STORED)
    failed = schedule_cases(make_task, FAILED)
    others = controls(make_task)

    report = run_pass(PassOptions())

    assert report.by_status == {"success": len(STORED) + 3, "failed": len(FAILED)}
    check_stored(stored)
    check_failed(failed)
    for case in RAISING:
        (log,) = failed[case].logs.all()
        assert log.traceback.startswith("Traceback"), case
    assert_controls_succeeded(others)
    assert_all_over()


# -- the Tasks-framework hand-off ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_odd_body_is_recorded_by_the_tasks_worker(isotest, mode, make_task):
    mode("tasks", TASKS_BACKEND="db")
    stored = schedule_cases(make_task, STORED)
    failed = schedule_cases(make_task, FAILED)
    others = controls(make_task)

    run_pass(PassOptions())
    call_command("db_worker", "--batch", "--backend", "db", "--no-startup-delay", verbosity=0)

    check_stored(stored)
    check_failed(failed)
    assert_controls_succeeded(others)
    assert_all_over()


# -- output ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("execution", ["inline", "process"])
def test_printed_junk_is_stored_readable_and_bounded(isotest, mode, make_task, execution):
    mode(execution, OUTPUT_LIMIT=2000)
    junk = "".join(chr(c) for c in range(256)) + "\ud800\udfff" + "x" * 10_000
    BODIES["junk"] = printing(junk)
    try:
        (task,) = schedule_cases(make_task, ["junk"]).values()
        others = controls(make_task)
        report = run_pass(PassOptions())
    finally:
        del BODIES["junk"]

    assert report.by_status == {"success": 4}
    (log,) = task.logs.all()
    assert_readable(log)
    assert log.output.startswith("\ufffd\x01\x02") and "\ud800" not in log.output
    assert log.output.endswith("[output truncated]\n") and len(log.output) < 2100
    assert_controls_succeeded(others)


def test_bytes_written_to_stdout_fail_the_body_like_a_real_text_stream():
    from scheduler_app.engine.capture import BoundedBuffer

    buffer = BoundedBuffer(100)
    buffer.write("text ")
    for value in (b"\x00\xff", bytearray(b"ab"), 12, None):
        with pytest.raises(TypeError, match="write\\(\\) argument must be str"):
            buffer.write(value)
    assert buffer.getvalue() == "text "


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("execution", ["inline", "process"])
def test_a_body_writing_bytes_to_stdout_fails_alone(isotest, mode, make_task, execution):
    mode(execution)

    def body() -> TaskResult:
        sys.stdout.write("before ")
        try:
            sys.stdout.write(b"\x00\xff")
        except TypeError:
            print("refused")
        sys.stdout.write(b"again")
        return TaskResult.success()

    BODIES["bytes"] = body
    try:
        (task,) = schedule_cases(make_task, ["bytes"]).values()
        others = controls(make_task)
        report = run_pass(PassOptions())
    finally:
        del BODIES["bytes"]

    assert report.by_status == {"success": 3, "failed": 1}
    (log,) = task.logs.all()
    assert log.error_message == "TypeError: write() argument must be str, not bytes"
    assert log.output == "before refused\n"
    assert_controls_succeeded(others)
    assert_all_over()


# -- bounds -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_huge_result_and_message_are_cut_to_their_bounds(isotest, mode, make_task):
    mode("inline", RESULT_LIMIT=5000)
    BODIES["huge"] = success("m" * 100_000, {"blob": "x" * 100_000})
    BODIES["deep"] = success(data=nested(100_000))
    try:
        tasks = schedule_cases(make_task, ["huge", "deep"])
        others = controls(make_task)
        report = run_pass(PassOptions())
    finally:
        del BODIES["huge"], BODIES["deep"]

    assert report.by_status == {"success": 5}
    (huge,) = tasks["huge"].logs.all()
    assert huge.result["message"].endswith("[truncated]") and len(huge.result["message"]) <= 10_000
    assert huge.result["data"].startswith("[result dropped: ")
    assert "more than RESULT_LIMIT (5000)" in huge.result["data"]
    (deep,) = tasks["deep"].logs.all()
    depth, value = 0, deep.result
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert value == "<nested more than 100 levels deep>" and depth == 100
    assert_controls_succeeded(others)


# -- defence in depth: one bad row in a bulk write -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_fails_alone_and_the_rest_of_the_chunk_is_recorded(
    isotest, mode, make_task, monkeypatch
):
    """Should a value slip past the sanitising, the bulk write falls back to row by row."""
    mode("inline")
    (odd,) = schedule_cases(make_task, ["tuple keys"]).values()
    others = controls(make_task)
    real_log_row = recording.log_row

    def unsanitised(outcome, row=None):  # noqa: ANN001, ANN202
        values = real_log_row(outcome, row)
        if outcome.spec.task_id == odd.pk and outcome.kind == "success":
            values[5] = {"n": float("nan"), "text": "\x00"}  # what the database refuses
        return values

    monkeypatch.setattr(recording, "log_row", unsanitised)

    report = run_pass(PassOptions())

    (log,) = odd.logs.all()
    assert log.status == "failed"
    assert log.error_message.startswith("The run's result could not be stored (")
    assert log.result is None
    odd.refresh_from_db()
    assert (odd.status, odd.last_status) == ("failed", "failed")
    assert report.by_status == {"success": 3, "failed": 1}
    assert_controls_succeeded(others)
    assert_all_over()
    assert connection.vendor in ("sqlite", "postgresql")


def test_the_fast_path_leaves_a_plain_result_alone():
    from scheduler_app.engine import storable

    plain = {"task": 5, "ok": True, "ratio": 0.5, "note": "é ok", "none": None}
    assert storable.json_value(plain, 1000) == plain
    assert storable.text("plain text", 100) == "plain text"
    # Text that only looks like an escaped NUL or a surrogate in JSON is kept as it is.
    for odd in ("\\u0000", "\\ud800", ["[" * 200], {"k": "{" * 200}):
        assert storable.json_value(odd, 1000) == odd
    assert sys.getrecursionlimit() >= 1000


# -- retry delays and later runs a body asks for ---------------------------------------------

ODD_DELAYS = {
    "nan": float("nan"),
    "infinity": float("inf"),
    "negative": -5,
    "a str": "soon",
    "a century and more": 10**30,
    "a bool": True,
    "an object": Opaque(),
}
ODD_NEXT_RUNS = {
    "a str": "tomorrow",
    "naive": dt.datetime(2030, 1, 1, 12),
    "the largest datetime": dt.datetime.max,
    "an int": 12,
    "an object": Opaque(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("delay", list(ODD_DELAYS.values()), ids=list(ODD_DELAYS))
def test_an_odd_retry_delay_falls_back_to_the_backoff(isotest, mode, make_task, delay):
    mode("inline", RETRY_BACKOFF_BASE=60)
    BODIES["delay"] = lambda: TaskResult.failure("later", retry_delay=delay)
    try:
        (task,) = schedule_cases(make_task, ["delay"]).values()
        ScheduledTask.objects.filter(pk=task.pk).update(max_retries=3)
        others = controls(make_task)
        before = timezone.now()
        report = run_pass(PassOptions())
        after = timezone.now()
    finally:
        del BODIES["delay"]

    assert report.by_status == {"success": 3, "failed": 1}
    task.refresh_from_db()
    assert (task.status, task.retry_count, task.error_message) == ("pending", 1, "later")
    assert before + dt.timedelta(seconds=60) <= task.next_run <= after + dt.timedelta(seconds=60)
    assert_controls_succeeded(others)
    assert_all_over()


@pytest.mark.django_db
@pytest.mark.parametrize("next_run", list(ODD_NEXT_RUNS.values()), ids=list(ODD_NEXT_RUNS))
def test_an_odd_next_run_of_a_pending_result_is_read_or_falls_back(
    isotest, mode, make_task, next_run
):
    mode("inline", RETRY_BACKOFF_BASE=60)
    BODIES["later"] = lambda: TaskResult.pending(next_run=next_run)
    try:
        (task,) = schedule_cases(make_task, ["later"]).values()
        others = controls(make_task)
        before = timezone.now()
        report = run_pass(PassOptions())
        after = timezone.now()
    finally:
        del BODIES["later"]

    assert report.by_status == {"success": 3, "skipped": 1}
    task.refresh_from_db()
    assert task.status == "pending"
    if isinstance(next_run, dt.datetime) and next_run.year < 9999:
        # A naive time is read in the task's zone.
        assert task.next_run == timezone.make_aware(next_run, dt.UTC)
    elif isinstance(next_run, dt.datetime):
        assert task.next_run.year == 9999
    else:
        assert (
            before + dt.timedelta(seconds=60) <= task.next_run <= after + dt.timedelta(seconds=60)
        )
    assert_controls_succeeded(others)
    assert_all_over()

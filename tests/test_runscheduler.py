"""The ``runscheduler`` command: one pass, filters, output, --check, --loop and stopping by signal."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import signal
import time
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from scheduler_app.models import ScheduledTask, TaskExecutionLog
from tests.engine_processes import due_tasks, finish, scheduler_env, wait_for
from tests.testapp.models import Execution

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_locks(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
    }


def due(make_task, task_type="record", **kwargs):
    kwargs.setdefault("due", timezone.now() - dt.timedelta(seconds=5))
    return make_task(
        task_type,
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(days=1),
        **kwargs,
    )


def run(*args, **options) -> list[str]:
    """Call runscheduler with bodies in this process; return its output lines."""
    out = io.StringIO()
    options.setdefault("workers", 0)
    call_command("runscheduler", *args, stdout=out, stderr=out, **options)
    return out.getvalue().splitlines()


def ran() -> list[int]:
    return sorted(Execution.objects.values_list("task_id", flat=True))


# -- one pass, in process -----------------------------------------------------------------


def test_a_pass_prints_a_line_per_task_and_a_summary(make_task):
    ok = due(make_task, name="Nightly export", priority=1)
    bad = due(make_task, "fail", name="Flaky import", priority=2, max_retries=0)

    lines = run()

    assert len(lines) == 3
    assert re.fullmatch(rf"#{ok.pk} Nightly export: ok \(\d+\.\d\d s\)", lines[0])
    assert re.fullmatch(
        rf"#{bad.pk} Flaky import: FAILED \(\d+\.\d\d s\) - it failed on purpose", lines[1]
    )
    assert re.fullmatch(r"Pass finished in \d+\.\d\d s: 1 failed, 1 success\.", lines[2])


def test_verbosity_zero_prints_nothing(make_task):
    task = due(make_task)
    assert run(verbosity=0) == []
    assert ran() == [task.pk]


def test_nothing_due_says_so():
    assert re.fullmatch(r"Pass finished in \d+\.\d\d s: nothing due\.", run()[-1])


def test_workers_zero_runs_the_bodies_in_this_process(make_task):
    task = due(make_task)
    run(workers=0)
    assert Execution.objects.get(task_id=task.pk).pid == os.getpid()


def test_module_filter(make_task):
    ours = due(make_task)
    theirs = due(make_task)
    ScheduledTask.objects.filter(pk=theirs.pk).update(module_id="othermod")
    run(module="testmod")
    assert ran() == [ours.pk]
    theirs.refresh_from_db()
    assert theirs.status == "pending" and not TaskExecutionLog.objects.filter(task=theirs).exists()


def test_tag_filter(make_task):
    nightly = due(make_task, tags=["nightly", "export"])
    due(make_task, tags=["daily"])
    due(make_task)
    run(tag=["nightly"])
    assert ran() == [nightly.pk]
    run(tag=["nightly", "daily"])  # every tag given must be on the task
    assert ran() == [nightly.pk]


def test_task_filter_is_repeatable(make_task):
    first, second, third = due(make_task), due(make_task), due(make_task)
    run(task_ids=[first.pk])
    assert ran() == [first.pk]
    run("--task", str(second.pk), "--task", str(third.pk))
    assert ran() == [first.pk, second.pk, third.pk]


def test_max_tasks_claims_the_most_urgent_first(make_task):
    low = due(make_task, priority=9)
    high = due(make_task, priority=1)
    mid = due(make_task, priority=5)
    lines = run("--max-tasks", "2")
    assert ran() == sorted([high.pk, mid.pk])
    assert lines[-1].endswith(": 2 success.")
    run("--max-tasks", "0")
    assert low.pk not in ran()
    run()
    assert low.pk in ran()


def test_negative_max_tasks_and_workers_are_refused(make_task):
    due(make_task)
    with pytest.raises(CommandError, match=r"^--max-tasks must be 0 or more\.$"):
        run("--max-tasks", "-1")
    with pytest.raises(CommandError, match=r"^--workers must be 0 or more\.$"):
        run(workers=-2)
    assert ran() == []


def test_dry_run_lists_what_is_due_and_runs_nothing(make_task):
    task = due(make_task, name="Weekly digest", priority=3)
    lines = run("--dry-run")
    assert lines[0].startswith(
        f"due: #{task.pk} Weekly digest (testmod.record, priority 3, next run "
    )
    assert lines[-1] == "1 task(s) due; nothing was run (--dry-run)."
    assert ran() == [] and not TaskExecutionLog.objects.exists()
    assert ScheduledTask.objects.get(pk=task.pk).status == "pending"


def test_check_passes_on_a_working_installation():
    assert run(check=True) == ["Scheduler check passed."]


def test_loop_stops_after_max_passes(make_task):
    task = due(make_task)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        lines = run(loop=True, sleep=0, max_passes=2)
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert lines[0] == "Scheduler running (every 0 s); stop with SIGTERM or Ctrl-C."
    assert lines[-1] == "Scheduler stopped after 2 pass(es)."
    assert ran() == [task.pk]


def test_negative_sleep_is_refused():
    with pytest.raises(CommandError, match=r"^--sleep must be 0 or more\.$"):
        run(loop=True, sleep=-1)


# -- as a process: exit codes and signals ---------------------------------------------------


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.django_db(transaction=True)
def test_a_pass_with_failing_tasks_exits_zero(procs, make_task):
    due_tasks(make_task, 2, task_type="fail", max_retries=0)
    code, out, err = finish(procs.scheduler(env=scheduler_env()))
    assert code == 0, err
    assert out.splitlines()[-1].endswith(": 2 failed.")


@pytest.mark.django_db(transaction=True)
def test_negative_max_tasks_exits_non_zero_with_one_line(procs):
    code, out, err = finish(procs.scheduler("--max-tasks", "-1", env=scheduler_env()))
    assert code != 0
    assert one_line(err) == "CommandError: --max-tasks must be 0 or more."
    assert out == ""


def unusable_database(tmp_path) -> str:
    """A database URL of the same kind as the test database's, that cannot be used."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"
    return f"postgres://postgres@127.0.0.1:5432/no_such_db_{uuid.uuid4().hex[:8]}"


@pytest.mark.django_db(transaction=True)
def test_check_exits_non_zero_with_one_line_when_the_database_is_unusable(procs, tmp_path):
    env = scheduler_env()
    env["DATABASE_URL"] = unusable_database(tmp_path)
    code, out, err = finish(procs.scheduler("--check", env=env))
    assert code == 1
    line = one_line(err)
    assert line.startswith("Database: OperationalError: ") and line.endswith(
        "(did you run migrate?)"
    )
    assert "Scheduler check passed." not in out


@pytest.mark.django_db(transaction=True)
def test_check_names_missing_tables(procs, tmp_path):
    env = scheduler_env()
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    code, _out, err = finish(procs.scheduler("--check", env=env))
    assert code == 1
    assert one_line(err) == (
        "Database: OperationalError: no such table: scheduler_app_scheduledtask "
        "(did you run migrate?)"
    )


@pytest.mark.django_db(transaction=True)
def test_check_passes_as_a_process(procs):
    code, out, err = finish(procs.scheduler("--check", env=scheduler_env()))
    assert (code, out.strip(), err) == (0, "Scheduler check passed.", "")


@pytest.mark.django_db(transaction=True)
def test_a_pass_on_an_unusable_database_exits_non_zero_with_one_line(procs, tmp_path):
    env = scheduler_env()
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    code, _out, err = finish(procs.scheduler(env=env))
    assert code == 1
    assert err.splitlines()[-1].startswith("CommandError: Database error: no such table: ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_loop_stops_cleanly_after_the_run_in_flight(procs, make_task, signum):
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 2.5})
    daemon = procs.scheduler("--loop", "--sleep", "0.2", "--workers", "1", env=scheduler_env())
    wait_for(
        lambda: TaskExecutionLog.objects.filter(task_id=task_id, status="running").exists(),
        30,
        "the run to be claimed",
    )
    time.sleep(1)  # the log row is written at the claim; let the body start
    # As a service manager does: the signal goes to the whole process group, workers too.
    os.killpg(daemon.pid, signum)
    code, out, err = finish(daemon, timeout=30)

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Scheduler running (every 0.2 s)")
    assert re.fullmatch(rf"#{task_id} .+: ok \(2\.\d\d s\)", lines[1])
    assert lines[-1] == "Scheduler stopped after 1 pass(es)."
    assert Execution.objects.filter(task_id=task_id).count() == 1
    (log,) = TaskExecutionLog.objects.filter(task_id=task_id)
    assert log.status == "success"
    task = ScheduledTask.objects.get(pk=task_id)
    assert (task.status, task.lease_token) == ("success", "")

"""The Tasks-framework hand-off to a real worker fleet: django-tasks-celery and ``celery worker``.

A Redis server of the test's own as the broker, one-shot ``runscheduler``
processes in ``EXECUTION = "tasks"`` mode on the ``celery`` backend, and real
Celery workers (``celery -A project worker``, prefork pool: the worker process
hands each job to a pool process it forked at start). Outcomes are read from the
execution log and from the rows the bodies insert. Not collected on Django 5.2,
where django-tasks-celery cannot be installed (tests/conftest.py).
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time

import pytest

from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from tests.engine_processes import Processes, due_tasks, finish, scheduler_env, wait_for
from tests.testapp.models import Execution

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENDED = {RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.ABANDONED}


@pytest.fixture
def procs():
    started = Processes()
    yield started
    started.kill_all()


@pytest.fixture
def celery(own_redis, procs, tmp_path):
    _server, redis_url = own_redis
    names = itertools.count(1)

    def env(**keys):
        keys = {"RETRY_BACKOFF_BASE": 0, "RETRY_JITTER": 0, **keys}
        environment = scheduler_env(
            EXECUTION="tasks", TASKS_BACKEND="celery", TASKS_QUEUE="scheduler", **keys
        )
        environment["CELERY_BROKER_URL"] = redis_url
        return environment

    def schedule(**keys):
        code, out, err = finish(procs.scheduler("--verbosity", "1", env=env(**keys)))
        assert code == 0, err
        return out

    def worker(**keys):
        name = f"worker{next(names)}"
        args = ["-A", "project", "worker", "-Q", "scheduler", "-n", f"{name}@%h"]
        args += ["--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO"]
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        log = tmp_path / f"{name}.log"
        process = procs.command(sys.executable, "-m", "celery", *args, env=env(**keys), output=log)
        process.log = log  # type: ignore[attr-defined]
        return process

    return schedule, worker


def descendants(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return []
    return [p for child in children for p in (child, *descendants(child))]


def statuses(task_id: int) -> list[str]:
    return list(
        TaskExecutionLog.objects.filter(task_id=task_id)
        .order_by("pk")
        .values_list("status", flat=True)
    )


def ended(*task_ids: int, runs: int = 1) -> bool:
    """Whether each of ``task_ids`` has ``runs`` log rows, all ended."""
    return all(
        len(found := statuses(task_id)) == runs and set(found) <= ENDED for task_id in task_ids
    )


def test_results_errors_timeouts_and_retries_flow_back_from_celery_workers(make_task, celery):
    schedule, worker = celery
    (ok,) = due_tasks(make_task, 1, config={"note": "from celery"})
    (failing,) = due_tasks(make_task, 1, task_type="fail", max_retries=1)
    (raising,) = due_tasks(make_task, 1, task_type="raise", max_retries=0)
    (hanging,) = due_tasks(make_task, 1, task_type="hang", max_retries=0, timeout=2)

    out = schedule()
    assert "4 enqueued" in out.splitlines()[-1]
    assert not Execution.objects.exists()  # nothing ran in the scheduler
    running = worker()
    wait_for(lambda: ended(ok, failing, raising, hanging), 120, "the worker to run the four")

    assert list(Execution.objects.values_list("task_id", flat=True)) == [ok]
    ok_log = TaskExecutionLog.objects.get(task_id=ok)
    assert ok_log.status == RunStatus.SUCCESS and "recorded" in ok_log.output
    assert statuses(failing) == [RunStatus.FAILED]
    assert ScheduledTask.objects.get(pk=failing).retry_count == 1  # a retry is due
    raised = TaskExecutionLog.objects.get(task_id=raising)
    assert raised.status == RunStatus.FAILED
    assert raised.error_message == "RuntimeError: boom from the task body"
    timed_out = TaskExecutionLog.objects.get(task_id=hanging)
    assert (
        timed_out.status == RunStatus.TIMEOUT and "Timed out after 2 s" in timed_out.error_message
    )

    # The retry goes through the queue again, to the same worker; then the attempts are used up.
    assert "1 enqueued" in schedule().splitlines()[-1]
    wait_for(lambda: ended(failing, runs=2), 120, "the worker to run the retry")
    assert statuses(failing) == [RunStatus.FAILED, RunStatus.FAILED]
    attempts = TaskExecutionLog.objects.filter(task_id=failing).values_list("attempt", flat=True)
    assert sorted(attempts) == [1, 2]
    task = ScheduledTask.objects.get(pk=failing)
    assert (task.status, task.last_status) == ("failed", "failed")  # a one-time task
    assert running.poll() is None, running.log.read_text()

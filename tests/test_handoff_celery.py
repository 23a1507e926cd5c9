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
from tests.engine_processes import descendants, due_tasks, finish, scheduler_env, statuses, wait_for
from tests.testapp.models import Execution

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENDED = {RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.ABANDONED}


@pytest.fixture
def celery(own_redis, procs, tmp_path):
    _server, redis_url = own_redis
    names = itertools.count(1)

    def env(visibility_timeout=None, **keys):
        keys = {"RETRY_BACKOFF_BASE": 0, "RETRY_JITTER": 0, **keys}
        environment = scheduler_env(
            EXECUTION="tasks", TASKS_BACKEND="celery", TASKS_QUEUE="scheduler", **keys
        )
        environment["CELERY_BROKER_URL"] = redis_url
        if visibility_timeout:  # late acknowledgement, redelivery (tests/engine_settings.py)
            environment["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
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


def test_a_pool_process_killed_mid_run_is_retried_once_never_run_twice(make_task, celery):
    schedule, worker = celery
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 3}, max_retries=1, timeout=5)
    assert "1 enqueued" in schedule(LEASE_SECONDS=2).splitlines()[-1]
    survivor = worker(LEASE_SECONDS=10)  # the least its system checks allow
    wait_for(lambda: statuses(task_id) == [RunStatus.RUNNING], 60, "a worker to take the run")
    time.sleep(0.5)
    # The pool process running the body dies; the worker (its parent) lives on and
    # starts another. Celery acknowledged the job when it started: it is not redelivered.
    (pool_process,) = descendants(survivor.pid)
    os.kill(pool_process, signal.SIGKILL)
    wait_for(lambda: "WorkerLostError" in survivor.log.read_text(), 60, "the worker to see it")
    assert not Execution.objects.filter(task_id=task_id).exists()

    # Its lease (timeout + LEASE_SECONDS from the start: 15 s) runs out; a pass takes it over.
    wait_for(
        lambda: "recovered 1 abandoned" in schedule(LEASE_SECONDS=2),
        60,
        "the run to be recovered as abandoned",
    )
    assert statuses(task_id) == [RunStatus.ABANDONED]
    wait_for(lambda: "1 enqueued" in schedule(LEASE_SECONDS=2), 30, "the retry to be enqueued")
    wait_for(lambda: ended(task_id, runs=2), 60, "the same worker to run the retry")

    assert Execution.objects.filter(task_id=task_id).count() == 1
    assert statuses(task_id) == [RunStatus.ABANDONED, RunStatus.SUCCESS]
    task = ScheduledTask.objects.get(pk=task_id)
    assert (task.status, task.lease_token) == ("success", "")
    assert survivor.poll() is None, survivor.log.read_text()


def test_a_job_redelivered_after_its_worker_died_is_not_run_again(make_task, celery):
    schedule, worker = celery
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 3}, max_retries=1, timeout=5)
    assert "1 enqueued" in schedule(LEASE_SECONDS=2).splitlines()[-1]
    # Late acknowledgement: a job whose worker dies stays with the broker, which hands
    # it to another worker once the visibility timeout has passed.
    victim = worker(LEASE_SECONDS=10, visibility_timeout=5)
    wait_for(lambda: statuses(task_id) == [RunStatus.RUNNING], 60, "a worker to take the run")
    time.sleep(0.5)
    # The worker and its pool process: the host died.
    pool = descendants(victim.pid)
    assert pool, "the pool process running the body"
    for pid in [victim.pid, *pool]:
        os.kill(pid, signal.SIGKILL)
    victim.wait(10)
    assert not Execution.objects.filter(task_id=task_id).exists()

    # Another worker gets the job again; the run is no longer enqueued, so it drops it.
    second = worker(LEASE_SECONDS=10, visibility_timeout=5)
    wait_for(lambda: "'abandoned'" in second.log.read_text(), 120, "the job to be delivered again")
    assert "is no longer enqueued" in second.log.read_text()
    assert not Execution.objects.filter(task_id=task_id).exists()

    # The lease runs out; a pass recovers the run and its retry runs once.
    wait_for(
        lambda: "recovered 1 abandoned" in schedule(LEASE_SECONDS=2),
        60,
        "the run to be recovered as abandoned",
    )
    wait_for(lambda: "1 enqueued" in schedule(LEASE_SECONDS=2), 30, "the retry to be enqueued")
    wait_for(lambda: ended(task_id, runs=2), 60, "the second worker to run the retry")

    assert Execution.objects.filter(task_id=task_id).count() == 1
    assert statuses(task_id) == [RunStatus.ABANDONED, RunStatus.SUCCESS]
    task = ScheduledTask.objects.get(pk=task_id)
    assert (task.status, task.lease_token) == ("success", "")

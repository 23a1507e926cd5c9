"""The Tasks-framework hand-off to a real worker fleet: django-tasks-rq and ``rqworker`` processes.

A Redis server of the test's own, one-shot ``runscheduler`` processes in
``EXECUTION = "tasks"`` mode on the ``rq`` backend, and real RQ workers
(``manage.py rqworker``, which forks a work-horse per job). Outcomes are read
from the execution log and from the rows the bodies insert.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from tests.engine_processes import descendants, due_tasks, finish, scheduler_env, statuses, wait_for
from tests.testapp.models import Execution

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rq(own_redis, procs):
    _server, redis_url = own_redis

    def env(**keys):
        keys = {"RETRY_BACKOFF_BASE": 0, "RETRY_JITTER": 0, **keys}
        environment = scheduler_env(
            EXECUTION="tasks", TASKS_BACKEND="rq", TASKS_QUEUE="scheduler", **keys
        )
        environment["RQ_REDIS_URL"] = redis_url
        return environment

    def schedule(**keys):
        code, out, err = finish(procs.scheduler("--verbosity", "1", env=env(**keys)))
        assert code == 0, err
        return out

    def worker(burst=True, **keys):
        args = ["rqworker", "scheduler", "--job-class", "django_tasks_rq.backend.Job"]
        return procs.manage(*args, *(["--burst"] if burst else []), env=env(**keys))

    return schedule, worker


def test_results_errors_timeouts_and_retries_flow_back_from_rq_workers(make_task, rq):
    schedule, worker = rq
    (ok,) = due_tasks(make_task, 1, config={"note": "from rq"})
    (failing,) = due_tasks(make_task, 1, task_type="fail", max_retries=1)
    (raising,) = due_tasks(make_task, 1, task_type="raise", max_retries=0)
    (hanging,) = due_tasks(make_task, 1, task_type="hang", max_retries=0, timeout=2)

    out = schedule()
    assert "4 enqueued" in out.splitlines()[-1]
    assert not Execution.objects.exists()  # nothing ran in the scheduler
    code, _out, err = finish(worker())
    assert code == 0, err

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

    # The retry goes through the queue again; then the attempts are used up.
    assert "1 enqueued" in schedule().splitlines()[-1]
    code, _out, err = finish(worker())
    assert code == 0, err
    assert statuses(failing) == [RunStatus.FAILED, RunStatus.FAILED]
    attempts = TaskExecutionLog.objects.filter(task_id=failing).values_list("attempt", flat=True)
    assert sorted(attempts) == [1, 2]
    task = ScheduledTask.objects.get(pk=failing)
    assert (task.status, task.last_status) == ("failed", "failed")  # a one-time task


def test_a_worker_killed_mid_run_is_retried_once_never_run_twice(make_task, rq):
    schedule, worker = rq
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 3}, max_retries=1, timeout=5)
    assert "1 enqueued" in schedule(LEASE_SECONDS=2).splitlines()[-1]
    victim = worker(burst=False, LEASE_SECONDS=10)  # the least its system checks allow
    wait_for(lambda: statuses(task_id) == [RunStatus.RUNNING], 60, "a worker to take the run")
    time.sleep(0.5)
    # The worker and its work-horse (which RQ puts in a session of its own): the host died.
    horses = descendants(victim.pid)
    assert horses, "the work-horse running the body"
    for pid in [victim.pid, *horses]:
        os.kill(pid, signal.SIGKILL)
    victim.wait(10)
    assert not Execution.objects.filter(task_id=task_id).exists()

    # Its lease (timeout + LEASE_SECONDS from the start: 15 s) runs out; a pass takes it over.
    wait_for(
        lambda: "recovered 1 abandoned" in schedule(LEASE_SECONDS=2),
        60,
        "the run to be recovered as abandoned",
    )
    assert statuses(task_id) == [RunStatus.ABANDONED]
    wait_for(lambda: "1 enqueued" in schedule(LEASE_SECONDS=2), 30, "the retry to be enqueued")
    code, _out, err = finish(worker())
    assert code == 0, err

    assert Execution.objects.filter(task_id=task_id).count() == 1
    assert statuses(task_id) == [RunStatus.ABANDONED, RunStatus.SUCCESS]
    task = ScheduledTask.objects.get(pk=task_id)
    assert (task.status, task.lease_token) == ("success", "")

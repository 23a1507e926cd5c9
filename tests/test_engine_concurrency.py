"""Several ``runscheduler`` processes at once, a killed scheduler, a lock cache that dies.

The scheduler processes use the test database (its URL is handed down in
DATABASE_URL) and count their work by side-effect rows (tests.testapp
Execution), not by the scheduler's own log.
"""

from __future__ import annotations

import collections
import os
import signal
import time

import pytest
from django.utils import timezone

from scheduler_app.models import ScheduledTask, TaskExecutionLog
from tests.engine_processes import due_tasks, finish, scheduler_env, wait_for
from tests.testapp.models import Execution

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("processes", [2, 4, 8])
def test_concurrent_schedulers_run_each_due_task_exactly_once(procs, make_task, processes):
    ids = due_tasks(make_task, 1000)
    env = scheduler_env(BATCH_SIZE=50)
    started = time.monotonic()
    schedulers = [procs.scheduler("--verbosity", "0", env=env) for _ in range(processes)]
    results = [finish(p) for p in schedulers]
    elapsed = time.monotonic() - started

    for code, _out, err in results:
        assert code == 0, err
    runs = collections.Counter(Execution.objects.values_list("task_id", flat=True))
    assert set(runs) == set(ids), f"{len(set(ids) - set(runs))} task(s) never ran"
    assert set(runs.values()) == {1}, {tid: n for tid, n in runs.items() if n > 1}
    logs = TaskExecutionLog.objects.all()
    assert logs.count() == 1000 and set(logs.values_list("status", flat=True)) == {"success"}
    assert ScheduledTask.objects.filter(status="success").count() == 1000
    # The processes shared the work: more than one of them claimed tasks.
    assert logs.values("pid").distinct().count() >= 2
    print(f"{processes} schedulers ran 1000 tasks in {elapsed:.1f} s")


def test_a_killed_scheduler_is_recovered_by_the_next_pass(procs, make_task):
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 3}, max_retries=2)
    env = scheduler_env(LEASE_SECONDS=2, RETRY_BACKOFF_BASE=0, WORKERS=1)
    victim = procs.scheduler("--verbosity", "0", env=env)
    wait_for(
        lambda: TaskExecutionLog.objects.filter(task_id=task_id, status="running").exists(),
        30,
        "the first run to start",
    )
    time.sleep(0.5)
    # kill -9 of the scheduler and its worker: the host died mid-run.
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(10)
    assert victim.returncode == -signal.SIGKILL
    assert not Execution.objects.filter(task_id=task_id).exists()
    task = ScheduledTask.objects.get(pk=task_id)
    assert task.status == "running" and task.lease_token
    wait_for(
        lambda: ScheduledTask.objects.get(pk=task_id).lease_expires_at < timezone.now(),
        10,
        "the lease to expire",
    )

    # The next scheduler: its first pass closes the run, its second retries it.
    code, out, err = finish(
        procs.scheduler("--loop", "--sleep", "0", "--max-passes", "2", "--verbosity", "0", env=env),
        timeout=60,
    )
    assert code == 0, err
    logs = list(TaskExecutionLog.objects.filter(task_id=task_id).order_by("attempt"))
    assert [(log.attempt, log.status) for log in logs] == [(1, "abandoned"), (2, "success")]
    assert "stopped renewing its lease" in logs[0].error_message
    assert logs[0].scheduled_for == logs[1].scheduled_for
    (execution,) = Execution.objects.filter(task_id=task_id)
    assert execution.attempt == 2
    task.refresh_from_db()
    assert (task.status, task.last_status, task.lease_token) == ("success", "success", "")


def test_lock_cache_dying_mid_run_gives_no_duplicate_and_no_crash(procs, make_task, own_redis):
    server, redis_url = own_redis
    ids = due_tasks(make_task, 60, config={"sleep": 0.05})
    env = scheduler_env(BATCH_SIZE=5)
    env["REDIS_URL"] = redis_url
    scheduler = procs.scheduler("--verbosity", "1", env=env)
    wait_for(lambda: Execution.objects.count() >= 10, 60, "the first runs")
    server.kill()
    server.wait(10)
    ran_before = Execution.objects.count()
    code, out, err = finish(scheduler)

    assert code == 0, err
    assert ran_before < len(ids), "the pass was over before the lock cache died"
    runs = collections.Counter(Execution.objects.values_list("task_id", flat=True))
    assert set(runs) == set(ids) and set(runs.values()) == {1}
    assert "Lock cache unreachable" in err and "relying on the database lease" in err
    assert "Traceback" not in err
    assert set(TaskExecutionLog.objects.values_list("status", flat=True)) == {"success"}
    assert out.strip().splitlines()[-1].startswith("Pass finished in")
    assert "60 success" in out.strip().splitlines()[-1]


def test_workers_do_not_outlive_a_killed_scheduler(procs, make_task):
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 2})
    victim = procs.scheduler("--verbosity", "0", env=scheduler_env(WORKERS=1))
    wait_for(
        lambda: TaskExecutionLog.objects.filter(task_id=task_id, status="running").exists(),
        30,
        "the run to start",
    )
    # kill -9 of the scheduler process alone (say, by the OOM killer).
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    time.sleep(3)
    # Its worker went with it: the body did not finish behind the scheduler's back.
    assert not Execution.objects.filter(task_id=task_id).exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(victim.pid, 0)  # nothing of that scheduler is left


def test_a_body_longer_than_the_lease_keeps_its_lease_while_another_scheduler_passes(
    procs, make_task
):
    """The lease is renewed while the body runs: the other scheduler never recovers the run."""
    (task_id,) = due_tasks(make_task, 1, config={"sleep": 12}, timeout=60, max_retries=2)
    env = scheduler_env(LEASE_SECONDS=4, WORKERS=1)
    holder = procs.scheduler("--verbosity", "0", env=env)
    wait_for(
        lambda: TaskExecutionLog.objects.filter(task_id=task_id, status="running").exists(),
        30,
        "the run to start",
    )
    # A second scheduler passing every 0.2 s: it recovers any lease that runs out.
    other = procs.scheduler("--loop", "--sleep", "0.2", "--verbosity", "2", env=env)
    expiries = set()
    while holder.poll() is None:
        task = ScheduledTask.objects.get(pk=task_id)
        if task.status == "running":
            expiries.add(task.lease_expires_at)
        time.sleep(0.3)
    code, _out, err = finish(holder)
    assert code == 0, err
    other.send_signal(signal.SIGTERM)
    other_code, other_out, other_err = finish(other)
    assert other_code == 0, other_err

    # One run, never abandoned, never retried: the body ran exactly once.
    (log,) = TaskExecutionLog.objects.filter(task_id=task_id)
    assert (log.status, log.attempt) == ("success", 1)
    assert log.duration >= 12
    assert Execution.objects.filter(task_id=task_id).count() == 1
    task = ScheduledTask.objects.get(pk=task_id)
    assert (task.status, task.last_status, task.run_count) == ("success", "success", 1)
    # The lease (4 s) was pushed forward again and again during the 12 s body.
    assert len(expiries) >= 3, expiries
    assert "abandoned" not in other_out and "Recovered" not in other_err
    assert other_out.count("Pass finished") >= 5  # the other scheduler was passing meanwhile

"""A daemon's database threads: opened before its first pass, kept across passes, replaced
after a failure; the first workers are forked only between two of their jobs."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from scheduler_app.engine.background import PassThreads
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.loop import SchedulerLoop
from scheduler_app.engine.passes import PassOptions
from scheduler_app.engine.runspec import RunSpec
from scheduler_app.engine.workers import WorkerPool
from tests.testapp.models import Execution

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workers(settings):  # noqa: ANN001, ANN201
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "process",
        "WORKERS": 1,
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
    }


def due_now(make_task, **kwargs):  # noqa: ANN001, ANN003, ANN201
    return make_task(
        "record",
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(days=1),
        due=timezone.now() - dt.timedelta(seconds=5),
        **kwargs,
    )


def in_thread(threads: PassThreads, fn):  # noqa: ANN001, ANN201
    """Run ``fn`` as the claiming thread's next job; its result."""
    job = threads.claims.submit(fn)
    job.done.wait(30)
    return job.result


def the_connection():  # noqa: ANN201
    return id(connection.connection) if connection.connection is not None else None


def daemon(on_pass, passes: int) -> SchedulerLoop:  # noqa: ANN001
    loop = SchedulerLoop(
        PassOptions(filters=Filters(module="testmod"), workers=1),
        sleep=0,
        on_pass=on_pass,
        max_passes=passes,
    )
    return loop


def test_the_threads_and_their_connections_last_from_pass_to_pass(workers, make_task):
    first = due_now(make_task)
    seen: list[tuple[int, int | None]] = []

    def on_pass(report) -> None:  # noqa: ANN001
        assert loop.threads is not None
        seen.append((id(loop.threads), in_thread(loop.threads, the_connection)))
        if len(seen) == 1:
            due_now(make_task)  # the second pass has work too

    loop = daemon(on_pass, passes=2)
    loop.run()

    assert Execution.objects.count() == 2
    assert Execution.objects.filter(task_id=first.pk).count() == 1
    (threads_1, conn_1), (threads_2, conn_2) = seen
    assert threads_1 == threads_2
    assert conn_1 is not None and conn_1 == conn_2  # one connection, not one per pass
    assert loop.threads is None  # closed with the daemon


def test_the_threads_connect_before_any_work(workers, make_task):
    opened: list[int | None] = []
    loop = daemon(lambda report: opened.append(in_thread(loop.threads, the_connection)), passes=1)
    loop.run()  # nothing is due: the pass itself never used the threads
    assert opened[0] is not None


def test_threads_whose_job_failed_are_replaced_before_the_next_pass(workers, make_task):
    due_now(make_task)
    broken: list[PassThreads] = []

    def fail() -> None:
        raise RuntimeError("the database went away")

    def on_pass(report) -> None:  # noqa: ANN001
        if not broken:
            assert loop.threads is not None
            broken.append(loop.threads)
            in_thread(loop.threads, fail)
            assert loop.threads.failed
            due_now(make_task)

    loop = daemon(on_pass, passes=2)
    loop.run()

    assert Execution.objects.count() == 2  # the second pass ran on new threads
    assert not broken[0].claims._thread.is_alive()


def test_the_first_workers_are_forked_only_between_two_database_jobs():
    held: list[bool] = []

    class Guard:
        def __init__(self) -> None:
            self.lock = threading.Lock()

        def __enter__(self) -> None:
            self.lock.acquire()
            held.append(not pool._workers)  # taken before the first fork

        def __exit__(self, *exc: object) -> None:
            self.lock.release()

    pool = WorkerPool(1, 1000)
    try:
        pool.run([], lambda outcome: None)  # nothing to run: nothing forked
        assert held == []
        pool._fork_guard = Guard()
        pool._ensure_started()
        assert held == [True]
        assert len(pool._workers) == 1
    finally:
        pool.close()


def noop_spec(n: int) -> RunSpec:
    return RunSpec(
        log_id=n,
        task_id=n,
        module_id="testmod",
        task_type="noop",
        name=f"noop {n}",
        config={},
        scheduled_for=timezone.now(),
        attempt=0,
        run_id=f"idle-{n}",
        owner_id=None,
        timezone="UTC",
        timeout=30,
        schedule_type="one_time",
    )


def test_idle_workers_wait_on_the_claim_on_its_way_instead_of_polling():
    claimed = threading.Event()
    calls = {"refill": 0, "await": 0}

    def refill():  # noqa: ANN202
        calls["refill"] += 1
        if calls["refill"] == 1:
            return []  # on its way
        if calls["refill"] == 2:
            threading.Timer(0.3, claimed.set).start()
        if not claimed.is_set():
            return []
        if calls.setdefault("given", 0):
            return None  # all claimed
        calls["given"] = 1
        return [noop_spec(2)]

    def await_refill(seconds: float) -> None:
        calls["await"] += 1
        claimed.wait(seconds)

    outcomes = []
    pool = WorkerPool(1, 1000)
    try:
        pool.run([noop_spec(1)], outcomes.append, refill=refill, await_refill=await_refill)
    finally:
        pool.close()
    assert [o.spec.log_id for o in outcomes] == [1, 2]
    # Polling every 2 ms would have asked ~150 times in the 0.3 s; waiting asks a few.
    assert calls["refill"] < 20
    assert calls["await"] >= 1


def test_a_failed_pass_leaves_new_threads_to_the_next(workers, make_task, monkeypatch):
    from django.db import OperationalError

    from scheduler_app.engine.passes import SchedulerPass

    seen: list[PassThreads] = []
    recover = SchedulerPass.recover_expired

    def flaky(self) -> int:  # noqa: ANN001
        assert loop.threads is not None
        seen.append(loop.threads)
        if len(seen) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return recover(self)

    monkeypatch.setattr(SchedulerPass, "recover_expired", flaky)
    due_now(make_task)
    loop = daemon(None, passes=2)
    loop.run()

    assert Execution.objects.count() == 1  # the second pass ran the task
    assert seen[0] is not seen[1]
    assert not seen[0].claims._thread.is_alive()


def test_the_workers_are_forked_before_the_first_pass(workers, make_task):
    forked: list[int] = []

    def on_pass(report) -> None:  # noqa: ANN001
        assert isinstance(loop.pool, WorkerPool)
        forked.append(len(loop.pool._workers))

    loop = daemon(on_pass, passes=1)
    loop.run()  # nothing is due: no pass needed a worker
    assert forked == [1]
    assert loop.pool is None  # closed with the daemon


def test_a_daemon_handing_runs_to_a_task_queue_forks_no_workers(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "tasks"}
    pools: list[object] = []
    loop = daemon(lambda report: pools.append(loop.pool), passes=1)
    loop.run()
    assert pools == [None]

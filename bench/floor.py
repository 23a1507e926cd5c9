"""The raw-SQL floor: a scheduler's work written by hand with psycopg, no framework.

Batched claim (``FOR UPDATE SKIP LOCKED``), one log row per run, bodies
committing one row each on 2 connections, batched log and task update. What
the engine is measured against: the database's speed on this machine.

Measured two ways: inside the benchmark's process (connections included, the
interpreter already running), and as a process of its own started like
``runscheduler`` (``python -m bench.floor``: interpreter start, psycopg import,
connect, the work, exit), the like-for-like baseline of a whole one-shot process.
``orm_bodies`` is the other reference: the bodies alone, through the ORM, in as
many processes as the scheduler has workers: the part of a burst that is the
task's own work, whatever runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

if __package__ in (None, ""):  # run as a script: bench/ is a package of the repository
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import ROOT, pg_params, scheduler_env


def raw_floor(n: int, with_bodies: bool, batch: int = 250, params: dict | None = None) -> float:
    """Seconds the floor takes for the ``n`` due tasks of bench.common.reset()."""
    import psycopg

    params = params or pg_params()
    start = time.perf_counter()
    main = psycopg.connect(**params)
    bodies = [psycopg.connect(**params, autocommit=True) for _ in range(2)]

    def body_worker(conn, ids):  # noqa: ANN001
        for task_id in ids:
            conn.execute(
                "INSERT INTO benchapp_hit (task_id, pid) VALUES (%s, %s)", [task_id, os.getpid()]
            )

    while True:
        with main.transaction():
            ids = [
                r[0]
                for r in main.execute(
                    "SELECT id FROM scheduler_app_scheduledtask WHERE status = 'pending' AND enabled "
                    "AND next_run <= now() ORDER BY priority, next_run, id LIMIT %s "
                    "FOR UPDATE SKIP LOCKED",
                    [batch],
                ).fetchall()
            ]
            if not ids:
                break
            main.execute(
                "UPDATE scheduler_app_scheduledtask SET status = 'running', lease_token = 'raw', "
                "lease_expires_at = now() + interval '2 minutes' WHERE id = ANY(%s)",
                [ids],
            )
            log_ids = [
                r[0]
                for r in main.execute(
                    "INSERT INTO scheduler_app_taskexecutionlog (task_id, run_id, scheduled_for, "
                    "attempt, status, started_at, error_message, traceback, output, host, "
                    "triggered_by, interrupt_requested_by, progress_message) "
                    "SELECT t, md5(t::text), now(), 1, 'running', now(), '', '', '', 'raw', 'raw', '', '' "
                    "FROM unnest(%s::bigint[]) AS t RETURNING id",
                    [ids],
                ).fetchall()
            ]
        if with_bodies:
            threads = [
                threading.Thread(target=body_worker, args=(bodies[i], ids[i::2])) for i in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        with main.transaction():
            main.execute(
                "UPDATE scheduler_app_taskexecutionlog SET status = 'success', finished_at = now(), "
                "duration = 0.001 WHERE id = ANY(%s)",
                [log_ids],
            )
            main.execute(
                "UPDATE scheduler_app_scheduledtask SET status = 'pending', lease_token = '', "
                "next_run = next_run + interval '5 minutes', last_status = 'success', "
                "run_count = run_count + 1 WHERE id = ANY(%s)",
                [ids],
            )
    elapsed = time.perf_counter() - start
    for conn in [main, *bodies]:
        conn.close()
    return elapsed


def floor_process(n: int, with_bodies: bool) -> dict:
    """The floor as a process of its own: launch time (epoch) and wall seconds to its exit."""
    launched = time.time()
    subprocess.run(
        [sys.executable, "-m", "bench.floor", str(n), "bodies" if with_bodies else "noop"],
        cwd=ROOT,
        # The connection parameters ready-made: the floor imports psycopg and nothing else.
        env=scheduler_env({"BENCH_PG": json.dumps(pg_params())}),
        check=True,
    )
    return {"launched": launched, "wall": time.time() - launched}


def orm_bodies(n: int, processes: int) -> dict:
    """``processes`` forked processes inserting ``n`` rows through the ORM: wall seconds
    (``seconds``), their CPU seconds (``cpu_bodies``) and PostgreSQL's (``cpu_database``).

    Each row in autocommit, as the benchmark's bodies do (``Hit.objects.create``);
    nothing else: no claim, no log, no scheduler.
    """
    import multiprocessing

    from django.db import connections

    from bench import cpu

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    shares = [range(i, n, processes) for i in range(processes)]
    children_before, database_before = cpu.children_seconds(), cpu.database_cpu_seconds()
    start = time.perf_counter()
    procs = [ctx.Process(target=_insert_through_orm, args=(share,)) for share in shares]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return {
        "seconds": time.perf_counter() - start,
        "cpu_bodies": cpu.children_seconds() - children_before,
        "cpu_database": cpu.database_cpu_seconds() - database_before,
    }


def _insert_through_orm(task_ids: range) -> None:
    from django.db import connections

    from bench.benchapp.models import Hit

    connections.close_all()  # never the parent's session
    for task_id in task_ids:
        Hit.objects.create(task_id=task_id, pid=os.getpid())
    connections.close_all()


if __name__ == "__main__":
    raw_floor(int(sys.argv[1]), sys.argv[2] == "bodies", params=json.loads(os.environ["BENCH_PG"]))

"""The raw-SQL floor: a scheduler's work written by hand with psycopg, no framework.

Batched claim (``FOR UPDATE SKIP LOCKED``), one log row per run, bodies
committing one row each on 2 connections, batched log and task update. What
the engine is measured against: the database's speed on this machine.
"""

from __future__ import annotations

import os
import threading
import time

from bench.common import pg_params


def raw_floor(n: int, with_bodies: bool, batch: int = 250) -> float:
    """Seconds the floor takes for the ``n`` due tasks of bench.common.reset()."""
    import psycopg

    params = pg_params()
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

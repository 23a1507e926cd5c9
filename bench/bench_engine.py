"""Engine benchmarks on PostgreSQL: burst throughput, several schedulers, the idle pass.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_engine.py

Each figure is printed next to a baseline measured in the same run:
* burst: executions/s of one ``runscheduler`` process over N due tasks, next
  to a raw-SQL floor doing the same work (batched claim + log insert, bodies
  on 2 connections, batched log and task update) with psycopg directly;
* several schedulers: 2 and 4 processes at once, with duplicates and misses
  counted from the rows the bodies insert (not from the scheduler's log);
* idle pass: the whole one-shot ``runscheduler`` process with 100,000 tasks
  scheduled and none due, next to ``manage.py check`` (time and peak memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scheduler_bench")
os.environ.setdefault("SCHEDULER_LOG_LEVEL", "ERROR")

import django  # noqa: E402

MANAGE = [sys.executable, str(ROOT / "manage.py")]


def ensure_database() -> None:
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in cfg["ENGINE"]:
        sys.exit("bench_engine: DATABASE_URL must point at PostgreSQL.")
    with psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def reset(n_due: int, task_type: str, *, due: bool = True) -> None:
    """Empty the tables and insert ``n_due`` tasks (due a minute ago, or tomorrow)."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from scheduler_app.engine.bulk import insert_rows
    from scheduler_app.models import ScheduledTask

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE scheduler_app_taskexecutionlog, benchapp_hit, "
            "scheduler_app_scheduledtask RESTART IDENTITY CASCADE"
        )
    minute = timezone.now().replace(second=0, microsecond=0)
    when = minute - dt.timedelta(minutes=1) if due else minute + dt.timedelta(days=1)
    fields = (
        "module_id",
        "task_type",
        "name",
        "schedule_type",
        "cron_expression",
        "priority",
        "next_run",
        "occurrence_at",
    )
    for start in range(0, n_due, 10_000):
        rows = [
            ["bench", task_type, f"bench {i}", "cron", "*/5 * * * *", 1 + i % 10, when, when]
            for i in range(start, min(n_due, start + 10_000))
        ]
        insert_rows(ScheduledTask, fields, rows, key="name")
    with connection.cursor() as cur:
        cur.execute("ANALYZE scheduler_app_scheduledtask")


def counts() -> tuple[int, int, int]:
    """(tasks run once, run more than once, never run) from the bodies' own rows."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n > 1),
                   count(*) FILTER (WHERE n IS NULL)
            FROM scheduler_app_scheduledtask t
            LEFT JOIN (SELECT task_id, count(*) AS n FROM benchapp_hit GROUP BY task_id) h
              ON h.task_id = t.id""")
        return cur.fetchone()


def log_count() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM scheduler_app_taskexecutionlog WHERE status = 'success'")
        return cur.fetchone()[0]


def run_schedulers(processes: int, workers: int) -> tuple[float, float]:
    """Start ``processes`` one-shot schedulers at once.

    Returns (wall seconds until all exit, longest pass): the pass time is what
    each process reports for its pass, without Python and Django start-up.
    """
    import re

    from django.db import connections

    connections.close_all()
    env = {**os.environ}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*MANAGE, "runscheduler", "-v1", "--workers", str(workers)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [p.communicate()[0] for p in procs]
    elapsed = time.perf_counter() - start
    codes = [p.returncode for p in procs]
    if any(codes):
        sys.exit(f"bench_engine: a scheduler exited with {codes}")
    passes = [
        float(m.group(1))
        for out in outputs
        for m in re.finditer(r"Pass finished in ([0-9.]+) s", out)
    ]
    return elapsed, max(passes)


def startup_seconds(repeat: int = 3) -> float:
    """Wall time of a one-shot scheduler with nothing due: start-up and exit."""
    reset(0, "noop")
    return statistics.median(run_schedulers(1, 2)[0] for _ in range(repeat))


def raw_floor(n: int, with_bodies: bool, batch: int = 250) -> float:
    """The same work with psycopg and hand-written SQL: the floor for this machine."""
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    params = {
        "host": cfg["HOST"],
        "port": cfg["PORT"] or 5432,
        "user": cfg["USER"],
        "dbname": cfg["NAME"],
    }
    main = psycopg.connect(**params)
    bodies = [psycopg.connect(**params, autocommit=True) for _ in range(2)]

    def body_worker(conn, ids):  # noqa: ANN001
        for task_id in ids:
            conn.execute(
                "INSERT INTO benchapp_hit (task_id, pid) VALUES (%s, %s)", [task_id, os.getpid()]
            )

    start = time.perf_counter()
    while True:
        with main.transaction():
            ids = [
                r[0]
                for r in main.execute(
                    "SELECT id FROM scheduler_app_scheduledtask WHERE status = 'pending' AND enabled "
                    "AND next_run <= now() ORDER BY priority, next_run, id LIMIT %s FOR UPDATE SKIP LOCKED",
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
                    "INSERT INTO scheduler_app_taskexecutionlog (task_id, run_id, scheduled_for, attempt, status, "
                    "started_at, error_message, traceback, output, host, triggered_by, interrupt_requested_by) "
                    "SELECT t, md5(t::text), now(), 1, 'running', now(), '', '', '', 'raw', 'raw', '' "
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


def peak_run(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one command, measured by GNU time when present."""
    import shutil
    import tempfile

    gnu_time = shutil.which("time") or (
        "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    )
    start = time.perf_counter()
    if gnu_time:
        with tempfile.NamedTemporaryFile("r") as out:
            code = subprocess.call(
                [gnu_time, "-f", "%M", "-o", out.name, *cmd],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            elapsed = time.perf_counter() - start
            peak = int(out.read().strip().splitlines()[-1])
    else:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _pid, code, usage = os.wait4(proc.pid, 0)
        elapsed, peak = time.perf_counter() - start, usage.ru_maxrss
    if code != 0:
        sys.exit(f"bench_engine: {' '.join(cmd)} failed")
    return elapsed, peak


def idle_pass(n: int, repeat: int) -> dict:
    from django.db import connections

    reset(n, "noop", due=False)
    connections.close_all()
    check, sched = [], []
    peak_run([*MANAGE, "check"])  # warm the disk cache for both
    peak_run([*MANAGE, "runscheduler", "-v0"])
    for _ in range(repeat):  # alternate, so background noise hits both alike
        check.append(peak_run([*MANAGE, "check"]))
        sched.append(peak_run([*MANAGE, "runscheduler", "-v0"]))
    return {
        "check_s": statistics.median(c[0] for c in check),
        "runscheduler_s": statistics.median(s[0] for s in sched),
        "check_rss_kib": statistics.median(c[1] for c in check),
        "runscheduler_rss_kib": statistics.median(s[1] for s in sched),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle-tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-idle", action="store_true")
    args = parser.parse_args()

    ensure_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    n = args.tasks
    print(
        f"PostgreSQL, {n} due tasks, {args.workers} workers per scheduler, {os.cpu_count()} cores"
    )

    startup = startup_seconds()
    print(f"one-shot scheduler with nothing due (start-up + exit): {startup:.3f} s")

    for task_type, with_bodies in (("insert_row", True), ("noop", False)):
        reset(n, task_type)
        floor = n / raw_floor(n, with_bodies)
        reset(n, task_type)
        wall, pass_s = run_schedulers(1, args.workers)
        rate = n / pass_s
        ok = log_count()
        extra = ""
        if with_bodies:
            once, dup, missed = counts()
            extra = f", once {once}, duplicates {dup}, missed {missed}"
        print(
            f"burst {task_type:10s}: {rate:7.0f} executions/s (pass {pass_s:.2f} s; process wall "
            f"{wall:.2f} s incl. start-up); raw-SQL floor {floor:7.0f}/s; ratio {rate / floor:.2f}; "
            f"logged {ok}{extra}"
        )

    for processes in (2, 4):
        reset(n, "insert_row")
        wall, pass_s = run_schedulers(processes, args.workers)
        once, dup, missed = counts()
        print(
            f"{processes} schedulers : {n / pass_s:7.0f} executions/s (longest pass {pass_s:.2f} s; "
            f"wall {wall:.2f} s incl. start-up); once {once}, duplicates {dup}, missed {missed}"
        )

    if not args.skip_idle:
        idle = idle_pass(args.idle_tasks, args.repeat)
        print(
            f"idle pass, {args.idle_tasks} tasks none due: runscheduler {idle['runscheduler_s']:.3f} s "
            f"vs check {idle['check_s']:.3f} s (ratio {idle['runscheduler_s'] / idle['check_s']:.2f}); "
            f"peak RSS {idle['runscheduler_rss_kib'] / 1024:.1f} MiB vs {idle['check_rss_kib'] / 1024:.1f} MiB "
            f"(ratio {idle['runscheduler_rss_kib'] / idle['check_rss_kib']:.2f})"
        )


if __name__ == "__main__":
    main()

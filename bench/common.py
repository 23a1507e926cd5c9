"""What the engine benchmarks share: the database, the task rows, scheduler processes, counts.

Every benchmark runs on PostgreSQL (DATABASE_URL, default ``scheduler_bench``) with the
overlap locks in Redis (REDIS_URL, default database 15), as a multi-scheduler site would.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scheduler_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SCHEDULER_LOG_LEVEL", "ERROR")

MANAGE = [sys.executable, str(ROOT / "manage.py")]
# Scheduler processes load compiled bytecode as an installed app does (pip compiles it);
# a shell with PYTHONDONTWRITEBYTECODE would otherwise make each one compile the project's
# ~150 modules from source (~0.1 s a process). The cache lives outside the tree.
PYCACHE = Path(tempfile.gettempdir()) / "scheduler-bench-pycache"
# Once a year: a task run in the burst is not due again while the benchmark counts its
# body's rows. Every five minutes, a burst that crossed a :05 boundary ran the tasks
# already done again, rightly (a new occurrence), and the count took them for duplicates.
RECURRENCE = "0 3 1 1 *"
TASK_FIELDS = (
    "module_id",
    "task_type",
    "name",
    "schedule_type",
    "cron_expression",
    "priority",
    "next_run",
    "occurrence_at",
)


def pg_params() -> dict:
    import environ

    cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in cfg["ENGINE"]:
        sys.exit("bench: DATABASE_URL must point at PostgreSQL.")
    return {
        "host": cfg["HOST"],
        "port": cfg["PORT"] or 5432,
        "user": cfg["USER"],
        "dbname": cfg["NAME"],
    }


def setup() -> None:
    """Create the benchmark database if needed, set Django up, migrate."""
    import psycopg

    params = pg_params()
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["dbname"]]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{params["dbname"]}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Fill the bytecode cache once, so the first measured process does not compile.
    subprocess.run(
        [*MANAGE, "runscheduler", "--dry-run", "-v0"],
        env=scheduler_env(),
        stdout=subprocess.DEVNULL,
        check=True,
    )


def scheduler_env(extra: dict | None = None) -> dict:
    """The environment of a scheduler process the benchmarks start."""
    env = {**os.environ, **(extra or {}), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def reset(n: int, task_type: str, *, due: bool = True, schedule: str = "cron") -> None:
    """Empty the tables and insert ``n`` tasks due a minute ago (or tomorrow)."""
    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from scheduler_app.engine.bulk import insert_rows
    from scheduler_app.models import ScheduledTask

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE scheduler_app_taskexecutionlog, benchapp_hit, scheduler_app_pendingevent, "
            "scheduler_app_schedulerheartbeat, scheduler_app_scheduledtask RESTART IDENTITY CASCADE"
        )
    cache.clear()
    minute = timezone.now().replace(second=0, microsecond=0)
    when = minute - dt.timedelta(minutes=1) if due else minute + dt.timedelta(days=1)
    for start in range(0, n, 10_000):
        rows = [
            ["bench", task_type, f"bench {i}", schedule, RECURRENCE, 1 + i % 10, when, when]
            for i in range(start, min(n, start + 10_000))
        ]
        insert_rows(ScheduledTask, TASK_FIELDS, rows, key="name")
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


def hit_span() -> tuple[float, float]:
    """(epoch seconds of the first and the last body row)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT extract(epoch FROM min(at)), extract(epoch FROM max(at)) FROM benchapp_hit"
        )
        first, last = cur.fetchone()
    return float(first), float(last)


def log_statuses() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT status, count(*) FROM scheduler_app_taskexecutionlog GROUP BY status")
        return dict(cur.fetchall())


def run_schedulers(processes: int, workers: int, extra_env: dict | None = None) -> dict:
    """Start ``processes`` one-shot schedulers at once; wait for all.

    Returns the launch time (epoch), the wall seconds until all exited, the
    longest pass each process reported (its pass, without start-up), and CPU
    seconds: the schedulers' own processes (``cpu_schedulers``), their workers
    (``cpu_workers``) and the local PostgreSQL server (``cpu_database``, 0 when
    it is not a local process).
    """
    from django.db import connections

    from bench import cpu

    connections.close_all()
    env = scheduler_env(extra_env)
    children_before, database_before = cpu.children_seconds(), cpu.database_cpu_seconds()
    launched = time.time()
    procs = [
        subprocess.Popen(
            [*MANAGE, "runscheduler", "-v1", "--workers", str(workers)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    own = [cpu.OwnCPU(p.pid) for p in procs]
    outputs = [p.communicate()[0] for p in procs]
    wall = time.time() - launched
    schedulers = sum(o.stop() for o in own)
    everything = cpu.children_seconds() - children_before
    codes = [p.returncode for p in procs]
    if any(codes):
        sys.exit(f"bench: a scheduler exited with {codes}")
    passes = [
        float(m.group(1))
        for out in outputs
        for m in re.finditer(r"Pass finished in ([0-9.]+) s", out)
    ]
    return {
        "launched": launched,
        "wall": wall,
        "pass": max(passes),
        "cpu_schedulers": schedulers,
        "cpu_workers": max(0.0, everything - schedulers),
        "cpu_database": cpu.database_cpu_seconds() - database_before,
    }


def span(values: list[float]) -> str:
    """A range over repeated runs, e.g. ``1,210-1,380``."""
    lo, hi = min(values), max(values)
    fmt = "{:,.0f}" if hi >= 100 else "{:.2f}"
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}-{fmt.format(hi)}"


def median(values: list[float]) -> float:
    return statistics.median(values)

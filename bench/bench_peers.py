"""Peers: scheduler_app's burst beside django-apscheduler's and procrastinate's, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_peers.py

2,000 due jobs whose body commits one row through the Django ORM (its own commit, autocommit),
timed from the launch of the process that runs them to the last body row, on the same
PostgreSQL server:

- scheduler_app: one one-shot ``manage.py runscheduler --workers 2``, as bench_burst.py's
  ``insert_row`` (database DATABASE_URL, Redis REDIS_URL).
- django-apscheduler (APScheduler 3.x): a ``BlockingScheduler`` on ``DjangoJobStore``, default
  thread pool executor (10 threads), 2,000 date jobs due a second ago. One setting is not the
  default: ``misfire_grace_time=None``; with the default grace (1 s) the jobs the scheduler
  reaches more than a second after their time are skipped as misfired, not run. The
  scheduler never exits by itself: it is stopped once its job store is empty and the rows
  stop coming.
- procrastinate (its Django contrib): ``manage.py procrastinate worker --one-shot`` (exits
  when the queue is empty), default concurrency (1; ``--concurrency`` sets another). Its
  Django contrib closes the task thread's database connection after each job, as Django
  does after a request: with Django's default ``CONN_MAX_AGE = 0`` every job opens a new
  connection. ``--conn-max-age 60`` gives the peers' project persistent connections.

Then two processes at once on 1,000 due jobs each (two runschedulers, two APScheduler
schedulers on the one job store, two procrastinate workers): jobs run more than once, and
never. Each repeat measures all of them back to back, so background load hits them alike.

The peers run in a virtualenv of their own (var/bench-peers-venv, created on first use from
bench/requirements-peers.txt, reinstalled when that file changes; never .venv), as a
standalone Django project (bench/peers/: the peers' apps and a Hit model) migrated into a
database of its own: DATABASE_URL's name plus ``_peers`` (PEERS_DB_NAME sets another).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402

REQUIREMENTS = common.ROOT / "bench" / "requirements-peers.txt"
LOGS = common.ROOT / "var" / "bench-peers-logs"
STALL_SECONDS = 30.0  # no new row for this long: whatever has not run will not


# -- the peers' virtualenv and project ---------------------------------------------------


def peers_python(venv: Path) -> Path:
    """The peers' virtualenv's python, after creating it or bringing it up to date."""
    python = venv / "bin" / "python"
    stamp = venv / "requirements-peers.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if venv.exists():
        shutil.rmtree(venv)
    print(f"bench: creating {venv} from {REQUIREMENTS.name}", flush=True)
    # The interpreter .venv was made from: the peers run on the same Python.
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)
    return python


def peers_db() -> dict:
    params = common.pg_params()
    return {**params, "dbname": os.environ.get("PEERS_DB_NAME", f"{params['dbname']}_peers")}


def peers_env(conn_max_age: int | None) -> dict:
    db = peers_db()
    env = common.scheduler_env(
        {
            "PEERS_CONN_MAX_AGE": "" if conn_max_age is None else str(conn_max_age),
            "DJANGO_SETTINGS_MODULE": "bench.peers.settings",
            "PYTHONPATH": str(common.ROOT),
            "PEERS_DB_HOST": str(db["host"]),
            "PEERS_DB_PORT": str(db["port"]),
            "PEERS_DB_USER": str(db["user"]),
            "PEERS_DB_NAME": str(db["dbname"]),
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


class Peers:
    """The peers' project: its commands (in its virtualenv) and its tables (read from here)."""

    def __init__(self, venv: Path, conn_max_age: int | None) -> None:
        import psycopg

        self.python = str(peers_python(venv))
        self.env = peers_env(conn_max_age)
        db = peers_db()
        with psycopg.connect(**{**db, "dbname": "postgres"}, autocommit=True) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [db["dbname"]]
            ).fetchone():
                conn.execute(f'CREATE DATABASE "{db["dbname"]}"')
        self.ctl("migrate")  # also fills the bytecode cache of the peers' project
        self.conn = psycopg.connect(**db, autocommit=True)
        LOGS.mkdir(parents=True, exist_ok=True)

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [self.python, "-m", "bench.peers.ctl", *args],
            env=self.env,
            cwd=common.ROOT,
            check=True,
        )

    def launch(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(LOGS / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(
            [self.python, *args],
            env=self.env,
            cwd=common.ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def one(self, sql: str):  # noqa: ANN201
        return self.conn.execute(sql).fetchone()

    def reset(self) -> None:
        self.conn.execute(
            "TRUNCATE peerhits_hit, django_apscheduler_djangojobexecution, "
            "django_apscheduler_djangojob, procrastinate_events, procrastinate_jobs "
            "RESTART IDENTITY CASCADE"
        )

    def counts(self, n: int) -> tuple[int, int, int]:
        """(jobs run once, run more than once, never run) from the bodies' rows."""
        once, dup, ran = self.one(
            "SELECT count(*) FILTER (WHERE c = 1), count(*) FILTER (WHERE c > 1), count(*) "
            "FROM (SELECT count(*) AS c FROM peerhits_hit GROUP BY job) h"
        )
        return once, dup, n - ran

    def last_hit(self) -> float:
        return float(self.one("SELECT extract(epoch FROM max(at)) FROM peerhits_hit")[0])


def counted(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


def stop(procs: list[subprocess.Popen]) -> list[int | None]:
    """SIGTERM what still runs; the exit codes of those that had exited by themselves."""
    codes = [p.poll() for p in procs]
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return codes


# -- the three -----------------------------------------------------------------------------


def scheduler_app(n: int, processes: int, workers: int) -> dict:
    common.reset(n, "insert_row")
    run = common.run_schedulers(processes, workers)
    once, dup, missed = common.counts()
    return {
        "rate": n / (common.hit_span()[1] - run["launched"]),
        "dup": dup,
        "never": missed,
        "note": "",
        "exited": 0,
    }


def apscheduler(peers: Peers, n: int, processes: int) -> dict:
    peers.reset()
    peers.ctl("apscheduler-add", str(n))
    launched = time.time()
    procs = [
        peers.launch(f"apscheduler-{processes}x-{i}", ["-m", "bench.peers.ctl", "apscheduler-run"])
        for i in range(processes)
    ]
    # The scheduler does not exit by itself: done when its job store is empty and no row
    # came for a while (every row in, for one process), or when the rows stall.
    hits, since = -1, time.time()
    while True:
        time.sleep(0.05)
        jobs, now_hits = peers.one(
            "SELECT (SELECT count(*) FROM django_apscheduler_djangojob), "
            "(SELECT count(*) FROM peerhits_hit)"
        )
        if now_hits != hits:
            hits, since = now_hits, time.time()
        quiet = time.time() - since
        if jobs == 0 and (hits >= n and processes == 1 or quiet > 2):
            break
        if quiet > STALL_SECONDS or all(p.poll() is not None for p in procs) and quiet > 2:
            break
    codes = stop(procs)
    once, dup, never = peers.counts(n)
    crashed = sum(1 for c in codes if c is not None)
    return {
        "rate": n / (peers.last_hit() - launched) if hits else 0.0,
        "dup": dup,
        "never": never,
        "note": f" ({crashed} of {processes} scheduler(s) exited by themselves)" if crashed else "",
        "exited": crashed,
    }


def procrastinate(peers: Peers, n: int, processes: int, concurrency: int | None) -> dict:
    peers.reset()
    peers.ctl("procrastinate-defer", str(n))
    args = ["-m", "django", "procrastinate", "worker", "--one-shot"]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    launched = time.time()
    procs = [peers.launch(f"procrastinate-{processes}x-{i}", args) for i in range(processes)]
    deadline = time.time() + 600
    while any(p.poll() is None for p in procs) and time.time() < deadline:
        time.sleep(0.05)
    codes = stop(procs)
    if any(codes):
        sys.exit(f"bench: a procrastinate worker exited with {codes}; see {LOGS}")
    once, dup, never = peers.counts(n)
    return {
        "rate": n / (peers.last_hit() - launched),
        "dup": dup,
        "never": never,
        "note": "",
        "exited": 0,
    }


def repeat(peers: Peers, args: argparse.Namespace) -> dict:
    n, m = args.tasks, args.dup_tasks
    return {
        "scheduler_app": scheduler_app(n, 1, args.workers),
        "apscheduler": apscheduler(peers, n, 1),
        "procrastinate": procrastinate(peers, n, 1, args.concurrency),
        "scheduler_app x2": scheduler_app(m, 2, args.workers),
        "apscheduler x2": apscheduler(peers, m, 2),
        "procrastinate x2": procrastinate(peers, m, 2, args.concurrency),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--dup-tasks", type=int, default=1000, help="jobs of the two-process runs")
    parser.add_argument("--workers", type=int, default=2, help="runscheduler --workers")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="procrastinate's (default: its own, 1)"
    )
    parser.add_argument(
        "--conn-max-age", type=int, default=None, help="the peers' CONN_MAX_AGE (default: 0)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=common.ROOT / "var" / "bench-peers-venv")
    args = parser.parse_args()
    common.setup()
    peers = Peers(args.venv, args.conn_max_age)
    print(
        f"peers: {args.tasks} due jobs, one process; {args.dup_tasks} jobs, two processes; "
        f"runscheduler --workers {args.workers}; procrastinate concurrency "
        f"{args.concurrency or 'default'}; peers' CONN_MAX_AGE {args.conn_max_age or 'default'}; "
        f"{os.cpu_count()} cores"
    )
    runs = []
    for i in range(args.repeat):
        r = repeat(peers, args)
        runs.append(r)
        best = max(r["apscheduler"]["rate"], r["procrastinate"]["rate"])
        print(
            f"  #{i + 1} "
            + "  ".join(f"{k} {v['rate']:5.0f}/s" for k, v in r.items() if "x2" not in k)
            + f"  scheduler_app/best peer {r['scheduler_app']['rate'] / best:.2f}"
        )
        print(
            "     two processes: "
            + "; ".join(
                f"{k[:-3]} {v['rate']:5.0f}/s dup {v['dup']} never {v['never']}{v['note']}"
                for k, v in r.items()
                if "x2" in k
            ),
            flush=True,
        )
    print("summary (ranges over repeats):")
    for name in ("scheduler_app", "apscheduler", "procrastinate"):
        one = [r[name] for r in runs]
        two = [r[f"{name} x2"] for r in runs]
        print(
            f"  {name:14s} {common.span([x['rate'] for x in one])} runs/s "
            f"(duplicates {sum(x['dup'] for x in one)}, never {sum(x['never'] for x in one)}); "
            f"two processes: {common.span([x['rate'] for x in two])} runs/s, duplicates "
            f"{counted([x['dup'] for x in two])}, never {counted([x['never'] for x in two])}"
            + (
                f"; a process exited by itself in {sum(1 for x in two if x['exited'])} of "
                f"{len(two)} repeats"
                if any(x["exited"] for x in two)
                else ""
            )
        )
    ratios = [
        r["scheduler_app"]["rate"] / max(r["apscheduler"]["rate"], r["procrastinate"]["rate"])
        for r in runs
    ]
    print(f"  scheduler_app / best peer: {common.span(ratios)}")


if __name__ == "__main__":
    main()

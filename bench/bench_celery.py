"""A worker fleet: the scheduler hands runs to 1, 2 and 4 Celery workers (django-tasks-celery).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_celery.py

``EXECUTION = "tasks"`` on the ``celery`` backend; real ``celery -A project
worker`` processes on Redis as the broker (CELERY_BROKER_URL, default database
14), each with the prefork pool at concurrency 1 (or, with ``--pool solo``, the
jobs run in the worker process itself), started and ready
before one one-shot scheduler enqueues 300 due tasks whose bodies sleep 50 ms
and commit a row. The fleet's rate is over its work, from the first body's row
to the last (the scheduler's start-up is not the fleet's); duplicates and misses
from the bodies' rows. A prefork pool process is forked once, at the worker's
start, and keeps its database connection: a run costs no fork.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ["BENCH_CELERY"] = "1"  # bench.settings configures the celery backend for this one

from bench import common  # noqa: E402

TASKS_ENV = {
    "SCHEDULER_EXECUTION": "tasks",
    "SCHEDULER_TASKS_BACKEND": "celery",
    "SCHEDULER_TASKS_QUEUE": "bench",
}


def one(n: int, workers: int, pool: str, logs: Path) -> dict:
    import redis
    from django.conf import settings
    from django.db import connections

    from project.celery import app

    common.reset(n, "io_wait")
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    connections.close_all()
    fleet = []
    for i in range(workers):
        log = logs / f"worker{i}.log"
        with open(log, "w") as out:
            fleet.append(
                (
                    subprocess.Popen(
                        [
                            *(sys.executable, "-m", "celery", "-A", "project", "worker"),
                            *("-Q", "bench", "-n", f"bench{i}@%h", "--loglevel", "WARNING"),
                            *("--pool", pool, "--concurrency", "1"),
                            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                        ],
                        cwd=common.ROOT,
                        env=common.scheduler_env(TASKS_ENV),  # the site's settings
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
    deadline = time.time() + 120
    # Started and waiting on the queue: each answers a ping.
    while len(app.control.ping(timeout=0.5)) < workers:
        if time.time() > deadline or any(w.poll() is not None for w, _ in fleet):
            sys.exit(
                "bench_celery: the Celery workers did not start:\n"
                + "\n".join(log.read_text() for _, log in fleet)
            )
    run = common.run_schedulers(1, 0, TASKS_ENV)
    deadline = time.time() + 300
    while time.time() < deadline:
        once, dup, missed = common.counts()
        if not missed:
            break
        time.sleep(0.2)
    for worker, _ in fleet:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker, _ in fleet:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    first, last = common.hit_span()
    return {"wall": last - run["launched"], "work": last - first, "dup": dup, "missed": missed}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pool",
        default="prefork",
        choices=["prefork", "solo"],
        help="prefork: one pool process per worker runs the jobs; solo: the worker itself",
    )
    args = parser.parse_args()
    common.setup()
    counts = [int(w) for w in args.workers.split(",")]
    results: dict[int, list[dict]] = {w: [] for w in counts}
    with tempfile.TemporaryDirectory(prefix="bench-celery-") as logs:
        for _ in range(args.repeat):
            for w in counts:
                r = one(args.tasks, w, args.pool, Path(logs))
                results[w].append(r)
                print(
                    f"  {w} Celery worker(s): wall {r['wall']:.2f} s, work {r['work']:.2f} s, "
                    f"duplicates {r['dup']}, missed {r['missed']}",
                    flush=True,
                )
    base = results[counts[0]]
    for w in counts:
        rs = results[w]
        print(
            f"Celery ({args.pool} pool, concurrency 1), {args.tasks} runs of 50 ms, {w} worker(s): "
            f"{common.span([args.tasks / r['work'] for r in rs])}/s; speed-up vs {counts[0]} "
            f"{common.span([b['work'] / r['work'] for b, r in zip(base, rs, strict=True)])}; "
            f"duplicates {sum(r['dup'] for r in rs)}, missed {sum(r['missed'] for r in rs)}"
        )


if __name__ == "__main__":
    main()

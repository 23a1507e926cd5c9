"""A worker fleet: the scheduler hands runs to 1, 2 and 4 RQ workers (django-tasks-rq).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_rq.py

``EXECUTION = "tasks"`` on the ``rq`` backend; real ``manage.py rqworker``
processes on Redis (RQ_REDIS_URL, default database 13), started and idle
before one one-shot scheduler enqueues 300 due tasks whose bodies sleep 50 ms
and commit a row. The fleet's rate is over its work, from the first body's row
to the last (the scheduler's start-up is not the fleet's); duplicates and
misses from the bodies' rows. RQ forks a work-horse per job,
so each run also pays a fork and a new database connection.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ["BENCH_RQ"] = "1"  # bench.settings installs django_rq (rqworker) for this one

from bench import common  # noqa: E402

TASKS_ENV = {
    "SCHEDULER_EXECUTION": "tasks",
    "SCHEDULER_TASKS_BACKEND": "rq",
    "SCHEDULER_TASKS_QUEUE": "bench",
}


def one(n: int, workers: int, worker_class: str) -> dict:
    import django_rq
    from django.db import connections
    from rq import Worker

    common.reset(n, "io_wait")
    django_rq.get_connection("bench").flushdb()
    connections.close_all()
    fleet = [
        subprocess.Popen(
            [
                *common.MANAGE,
                "rqworker",
                "bench",
                "--job-class",
                "django_tasks_rq.backend.Job",
                "--worker-class",
                worker_class,
            ],
            env={**os.environ, **TASKS_ENV},  # the site's settings
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    redis = django_rq.get_connection("bench")
    deadline = time.time() + 120
    while Worker.count(connection=redis) < workers:  # started and waiting on the queue
        if time.time() > deadline:
            sys.exit("bench_rq: the RQ workers did not start")
        time.sleep(0.2)
    run = common.run_schedulers(1, 0, TASKS_ENV)
    deadline = time.time() + 300
    while time.time() < deadline:
        once, dup, missed = common.counts()
        if not missed:
            break
        time.sleep(0.2)
    for worker in fleet:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in fleet:
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
        "--worker-class",
        default="rq.worker.Worker",
        help="rq.worker.Worker forks a work-horse per job; rq.worker.SimpleWorker does not",
    )
    args = parser.parse_args()
    common.setup()
    counts = [int(w) for w in args.workers.split(",")]
    results: dict[int, list[dict]] = {w: [] for w in counts}
    for _ in range(args.repeat):
        for w in counts:
            r = one(args.tasks, w, args.worker_class)
            results[w].append(r)
            print(
                f"  {w} RQ worker(s): wall {r['wall']:.2f} s, work {r['work']:.2f} s, "
                f"duplicates {r['dup']}, missed {r['missed']}",
                flush=True,
            )
    base = results[counts[0]]
    for w in counts:
        rs = results[w]
        print(
            f"RQ ({args.worker_class}), {args.tasks} runs of 50 ms, {w} worker(s): "
            f"{common.span([args.tasks / r['work'] for r in rs])}/s; speed-up vs {counts[0]} "
            f"{common.span([b['work'] / r['work'] for b, r in zip(base, rs, strict=True)])}; "
            f"duplicates {sum(r['dup'] for r in rs)}, missed {sum(r['missed'] for r in rs)}"
        )


if __name__ == "__main__":
    main()

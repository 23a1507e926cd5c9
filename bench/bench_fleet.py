"""Several schedulers at once: 1, 4 and 8 one-shot processes on the same due tasks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_fleet.py

I/O-bound bodies (each sleeps 50 ms, then commits a row) and CPU-bound ones
(20 ms of CPU, then a row). Duplicates and misses are counted from the rows the
bodies insert, not from the scheduler's log. Two times per run: *wall*, from
launching the processes to the last body's row (includes each process's Python
and Django start-up, about a second of CPU apiece), and *work*, from the first
body's row to the last. Speed-ups are against one process in the same repeat.

``--daemons``: the schedulers are ``runscheduler --loop`` daemons, started and
idle before the tasks become due all at once (as a deployment runs them);
*wall* is then from that moment to the last body's row, without start-up. The
CPU time each daemon's own process spent on the burst (claiming, handing out,
recording: the scheduler's share) is read from /proc beside its workers'
(the bodies), in milliseconds per run.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402
from bench.cpu import cpu_seconds, database_cpu_seconds  # noqa: E402


def one(n: int, task_type: str, processes: int, workers: int, daemons: bool = False) -> dict:
    if daemons:
        return one_with_daemons(n, task_type, processes, workers)
    common.reset(n, task_type)
    run = common.run_schedulers(processes, workers)
    once, dup, missed = common.counts()
    first, last = common.hit_span()
    return {"wall": last - run["launched"], "work": last - first, "dup": dup, "missed": missed}


def one_with_daemons(n: int, task_type: str, processes: int, workers: int) -> dict:
    import signal
    import subprocess
    import time

    from django.db import connection, connections

    common.reset(n, task_type, due=False)
    connections.close_all()
    fleet = [
        subprocess.Popen(
            [*common.MANAGE, "runscheduler", "--loop", "--sleep", "0.5", "--workers", str(workers)],
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(processes)
    ]
    try:
        deadline = time.time() + 180
        while True:  # every daemon has finished a pass: started and idle
            with connection.cursor() as cur:
                cur.execute("SELECT count(DISTINCT pid) FROM scheduler_app_schedulerheartbeat")
                if cur.fetchone()[0] >= processes:
                    break
            if time.time() > deadline:
                sys.exit("bench_fleet: the daemons did not start")
            time.sleep(0.2)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE scheduler_app_scheduledtask SET next_run = now(), occurrence_at = now()"
            )
            cur.execute("SELECT pg_notify('scheduler_app_wake', 'due')")
        before = [cpu_seconds(p.pid) for p in fleet]
        database_before = database_cpu_seconds()
        due_at = time.time()
        while time.time() < deadline + 300:
            once, dup, missed = common.counts()
            if not missed:
                break
            time.sleep(0.2)
        time.sleep(1)  # the last outcomes recorded
        after = [cpu_seconds(p.pid) for p in fleet]
        database = database_cpu_seconds() - database_before
    finally:
        for p in fleet:
            os.killpg(p.pid, signal.SIGTERM)
        for p in fleet:
            p.wait(60)
    first, last = common.hit_span()
    scheduler = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
    bodies = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
    return {
        "wall": last - due_at,
        "work": last - first,
        "dup": dup,
        "missed": missed,
        "scheduler_ms": 1000 * scheduler / n,
        "workers_ms": 1000 * bodies / n,
        "database_ms": 1000 * database / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--io-tasks", type=int, default=1000)
    parser.add_argument("--cpu-tasks", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", default="1,4,8")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("io_wait", "cpu_burn"))
    parser.add_argument("--daemons", action="store_true", help="idle --loop daemons, then a burst")
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]
    common.setup()
    print(f"fleet: {args.workers} workers per scheduler, {os.cpu_count()} cores")
    kinds = [("io_wait", args.io_tasks), ("cpu_burn", args.cpu_tasks)]
    for task_type, n in kinds:
        if args.only and task_type != args.only:
            continue
        results: dict[int, list[dict]] = {p: [] for p in counts}
        for _ in range(args.repeat):
            for p in counts:
                r = one(n, task_type, p, args.workers, args.daemons)
                results[p].append(r)
                print(
                    f"  {task_type} {p} process(es): wall {r['wall']:.2f} s, work {r['work']:.2f} s,"
                    f" duplicates {r['dup']}, missed {r['missed']}"
                    + (
                        f"; CPU per run: schedulers {r['scheduler_ms']:.1f} ms,"
                        f" workers {r['workers_ms']:.1f} ms, PostgreSQL {r['database_ms']:.1f} ms"
                        if "scheduler_ms" in r
                        else ""
                    ),
                    flush=True,
                )
        base = results[counts[0]]
        for p in counts:
            rs = results[p]
            print(
                f"{task_type} x{n}, {p} process(es): {common.span([n / r['wall'] for r in rs])}/s wall, "
                f"{common.span([n / r['work'] for r in rs])}/s work; speed-up vs {counts[0]} "
                f"{common.span([b['wall'] / r['wall'] for b, r in zip(base, rs, strict=True)])} wall, "
                f"{common.span([b['work'] / r['work'] for b, r in zip(base, rs, strict=True)])} work; duplicates "
                f"{sum(r['dup'] for r in rs)}, missed {sum(r['missed'] for r in rs)}"
            )


if __name__ == "__main__":
    main()

"""Burst: 2,000 due tasks, one one-shot ``runscheduler`` process, beside the raw-SQL floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_burst.py

Bodies that commit one row through the ORM, next to the floor with bodies (bench/floor.py);
no-op bodies next to the floor's bookkeeping alone. The product's rate is given for the
whole process (start to last row, or to exit for no-op bodies) and for its pass alone
(what the process reports, without Python and Django start-up). The floor is given run
inside this process and as a process of its own, timed exactly as the product is (launch
to last row, or to exit): the whole-process ratio compares like with like. With bodies,
``ORM bodies`` is the bodies' own work alone (the same inserts through the ORM in as many
processes as the scheduler has workers, no scheduler): what any scheduler running these
bodies pays before its own bookkeeping. Each repeat measures the floors and the product
back to back, so background load hits all alike.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402
from bench.floor import floor_process, orm_bodies, raw_floor  # noqa: E402


def _whole(run: dict, with_bodies: bool) -> float:
    """Seconds from a process's launch to its last body row (with bodies) or to its exit."""
    return common.hit_span()[1] - run["launched"] if with_bodies else run["wall"]


def burst(n: int, task_type: str, workers: int) -> dict:
    with_bodies = task_type != "noop"
    common.reset(n, task_type)
    floor = n / raw_floor(n, with_bodies)
    common.reset(n, task_type)
    floor_run = floor_process(n, with_bodies)
    floor_whole = n / _whole(floor_run, with_bodies)
    floor_start = common.hit_span()[0] - floor_run["launched"] if with_bodies else None
    orm = None
    if with_bodies:
        common.reset(n, task_type)
        orm = orm_bodies(n, workers)
    common.reset(n, task_type)
    run = common.run_schedulers(1, workers)
    once, dup, missed = common.counts() if with_bodies else (n, 0, 0)
    whole = _whole(run, with_bodies)
    first, last = common.hit_span() if with_bodies else (None, None)
    ok = common.log_statuses().get("success", 0)
    return {
        "floor": floor,
        "floor_whole": floor_whole,
        "orm": n / orm["seconds"] if orm else None,
        "whole": n / whole,
        "pass": n / run["pass"],
        "ok": ok,
        "dup": dup,
        "missed": missed if with_bodies else n - ok,
        # Where the time goes: launch to first body, the bodies' own span, CPU per run.
        "start": first - run["launched"] if with_bodies else None,
        "floor_start": floor_start,
        "bodies": n / (last - first) if with_bodies else None,
        "ms_scheduler": 1000 * run["cpu_schedulers"] / n,
        "ms_workers": 1000 * run["cpu_workers"] / n,
        "ms_database": 1000 * run["cpu_database"] / n,
        "ms_orm": 1000 * orm["cpu_bodies"] / n if orm else None,
        "ms_orm_database": 1000 * orm["cpu_database"] / n if orm else None,
    }


def _where_the_time_goes(runs: list[dict]) -> str:
    """The lines that explain a ratio: start-up, the bodies' rate, CPU per run."""

    def ms(key: str) -> str:
        return common.span([r[key] for r in runs]) + " ms"

    cpu = (
        f"CPU per run: scheduler process {ms('ms_scheduler')} (start-up included), "
        f"workers {ms('ms_workers')}, PostgreSQL {ms('ms_database')}"
    )
    if runs[0]["start"] is None:
        return f"            {cpu}"
    return (
        f"            launch to first body {common.span([r['start'] for r in runs])} s "
        f"(floor as a process {common.span([r['floor_start'] for r in runs])} s); "
        f"first to last body {common.span([r['bodies'] for r in runs])}/s "
        f"(ORM bodies alone {common.span([r['orm'] for r in runs])}/s)\n"
        f"            {cpu}; ORM bodies alone {ms('ms_orm')}, "
        f"their PostgreSQL {ms('ms_orm_database')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    common.setup()
    print(f"burst: {args.tasks} due tasks, {args.workers} workers, {os.cpu_count()} cores")
    for task_type, floor_name in (
        ("insert_row", "floor with bodies"),
        ("noop", "bookkeeping floor"),
    ):
        runs = [burst(args.tasks, task_type, args.workers) for _ in range(args.repeat)]
        for r in runs:
            orm = f"  ORM bodies {r['orm']:6.0f}/s" if r["orm"] else ""
            print(
                f"  {task_type:10s} whole {r['whole']:6.0f}/s  pass {r['pass']:6.0f}/s  "
                f"{floor_name} {r['floor']:6.0f}/s, as a process {r['floor_whole']:6.0f}/s{orm}  "
                f"ratio whole/process floor {r['whole'] / r['floor_whole']:.2f}, "
                f"whole/floor {r['whole'] / r['floor']:.2f}, pass/floor "
                f"{r['pass'] / r['floor']:.2f}  ok {r['ok']} dup {r['dup']} missed {r['missed']}"
            )
        orm = (
            f"; ORM bodies alone {common.span([r['orm'] for r in runs])}/s"
            if runs[0]["orm"]
            else ""
        )
        print(
            f"{task_type:10s}: whole process {common.span([r['whole'] for r in runs])}/s, "
            f"pass {common.span([r['pass'] for r in runs])}/s; {floor_name} "
            f"{common.span([r['floor'] for r in runs])}/s, as a process "
            f"{common.span([r['floor_whole'] for r in runs])}/s{orm}; ratio whole/process floor "
            f"{common.span([r['whole'] / r['floor_whole'] for r in runs])}, whole/floor "
            f"{common.span([r['whole'] / r['floor'] for r in runs])}, pass/floor "
            f"{common.span([r['pass'] / r['floor'] for r in runs])}; duplicates "
            f"{sum(r['dup'] for r in runs)}, missed {sum(r['missed'] for r in runs)}"
        )
        print(_where_the_time_goes(runs))


if __name__ == "__main__":
    main()

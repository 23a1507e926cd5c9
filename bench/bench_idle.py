"""Idle pass: a one-shot ``runscheduler`` over 100,000 scheduled tasks, none due, vs ``manage.py check``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_idle.py

Time and peak memory of the whole process, each run alternating with
``check`` so background load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402


def peak_run(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one command, measured by GNU time when present."""
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
        sys.exit(f"bench: {' '.join(cmd)} failed")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    common.setup()
    from django.db import connections

    common.reset(args.tasks, "noop", due=False)
    connections.close_all()
    check_cmd = [*common.MANAGE, "check"]
    sched_cmd = [*common.MANAGE, "runscheduler", "-v0"]
    peak_run(check_cmd)  # warm the disk cache for both
    peak_run(sched_cmd)
    ratios, mem = [], []
    for _ in range(args.repeat):
        check = peak_run(check_cmd)
        sched = peak_run(sched_cmd)
        ratios.append(sched[0] / check[0])
        mem.append(sched[1] / check[1])
        print(
            f"  runscheduler {sched[0]:.3f} s {sched[1] / 1024:.1f} MiB; "
            f"check {check[0]:.3f} s {check[1] / 1024:.1f} MiB",
            flush=True,
        )
    print(
        f"idle pass over {args.tasks:,} tasks, none due: runscheduler / check time "
        f"{common.span(ratios)}, peak memory {common.span(mem)}"
    )


if __name__ == "__main__":
    main()

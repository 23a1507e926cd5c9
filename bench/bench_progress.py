"""Progress: what ``context.progress()`` after every row costs a body that writes a report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_progress.py

Two bodies of 200,000 rows each, with and without ``context.progress(done, total,
message)`` after every row (200,000 calls; the engine writes at most one a second,
``PROGRESS_INTERVAL`` as shipped, on PostgreSQL):

* *report rows*: each row made as the demo's users report makes it (two times
  formatted, flags spelled out), then written by ``csv.writer``;
* *fixed rows*: one fixed row written again and again, the least work a loop can do
  per call, so the worst case for progress().

Each runs through a real scheduler pass (``EXECUTION = "inline"``: the body runs in
this process and is timed from inside), the two variants alternating, ``--rounds``
times. Prints the overhead fastest against fastest and as a range over the rounds, the progress writes per run,
and the cost of one throttled call (best of five).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402


def one_run(task_type: str) -> tuple[float, int]:
    """(seconds the body took by its own clock, progress writes the database saw)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduler_app.engine.passes import PassOptions, run_pass
    from scheduler_app.models import TaskExecutionLog

    common.reset(1, task_type)
    with CaptureQueriesContext(connection) as queries:
        report = run_pass(PassOptions(execution="inline", workers=0))
    if report.by_status != {"success": 1}:
        sys.exit(f"bench: the run ended {report.by_status}")
    log = TaskExecutionLog.objects.get()
    writes = sum(
        1
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and 'SET "progress_done"' in q["sql"]
    )
    return log.result["seconds"], writes


def call_cost(calls: int = 500_000) -> float:
    """Nanoseconds of one throttled ``context.progress()`` call, best of five, loop excluded."""
    from scheduler_app.context import TaskContext
    from scheduler_app.engine.progress import ProgressReporter

    reporter = ProgressReporter(0, interval=3600, write=lambda *args: None)
    context = TaskContext(
        task_id=0,
        module_id="bench",
        task_type="t",
        name="n",
        config={},
        scheduled_for=None,
        progress_sink=reporter.report,
    )
    context.progress(0, calls)  # the first call writes; the rest are held back
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for done in range(calls):
            context.progress(done, calls, "Writing rows")
        middle = time.perf_counter()
        for _done in range(calls):
            pass
        best = min(best, (middle - started) - (time.perf_counter() - middle))
    reporter.close()
    return best / calls * 1e9


def compare(kind: str, rounds: int) -> None:
    plain, reported, overheads, writes = [], [], [], []
    for _ in range(rounds):
        without, _none = one_run(kind)
        with_progress, count = one_run(f"{kind}_progress")
        plain.append(without)
        reported.append(with_progress)
        overheads.append(100 * (with_progress / without - 1))
        writes.append(count)
        print(
            f"  {kind}: without {without:.3f} s, with progress {with_progress:.3f} s "
            f"({overheads[-1]:+.1f} %), {count} progress writes"
        )
    print(f"{kind}: body without progress() {common.span(plain)} s, with {common.span(reported)} s")
    # On a shared machine a round can be slowed by anything: the fastest run of each
    # variant is the one least disturbed, and their ratio the overhead of progress() itself.
    best = 100 * (min(reported) / min(plain) - 1)
    print(
        f"{kind}: overhead, fastest against fastest {best:+.1f} %; round by round "
        f"{min(overheads):+.1f} % to {max(overheads):+.1f} % (median "
        f"{common.median(overheads):+.1f} %); progress writes per run {common.span(writes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    common.setup()
    compare("report_rows", args.rounds)
    compare("csv_rows", args.rounds)
    print(f"one throttled progress() call: {call_cost():.0f} ns")


if __name__ == "__main__":
    main()

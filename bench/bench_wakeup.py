"""Wake-up: how soon a sleeping ``runscheduler --loop`` starts a task that became due.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_wakeup.py

One daemon (``LOOP_SLEEP`` as shipped, 5 s; 2 workers) and 1,000 triggers, about
20 a second, taking turns: *run now* on a task due tomorrow, a *new one-time
task* scheduled a second ahead, an *emitted event* with one listening task. The
latency of each is from the moment it was due (the trigger's commit, or the
new task's run time) to its body's first statement (the row it inserts).
Also prints the daemon's CPU time over an idle minute-fraction afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children so far (from /proc)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def run(triggers: int, rate: float, seed: int) -> dict:
    from django.db import connection, connections
    from django.utils import timezone

    from scheduler_app import services
    from scheduler_app.models import ScheduledTask

    per_kind = triggers // 3 + 1
    common.reset(per_kind, "insert_row", due=False)  # the run-now tasks, due tomorrow
    later = list(ScheduledTask.objects.order_by("pk").values_list("pk", flat=True))
    listeners = []
    for i in range(per_kind):
        task = services.schedule(
            user=None,
            module="bench",
            task_type="insert_row",
            schedule_type="event",
            event=f"wake.{i}",
            name=f"listener {i}",
        )
        listeners.append(task.pk)
    connections.close_all()
    daemon = subprocess.Popen(
        [*common.MANAGE, "runscheduler", "--loop", "--workers", "2", "-v0"],
        env=os.environ.copy(),
        start_new_session=True,
    )
    time.sleep(3)  # started and napping
    rng = random.Random(seed)
    due: dict[int, float] = {}
    tasks = {pk: ScheduledTask.objects.get(pk=pk) for pk in later}
    for n in range(triggers):
        kind = n % 3
        i = n // 3
        if kind == 0:
            services.run_now(tasks[later[i]], user=None)
            due[later[i]] = time.time()
        elif kind == 1:
            when = timezone.now() + dt.timedelta(seconds=1)
            task = services.schedule(
                user=None,
                module="bench",
                task_type="insert_row",
                schedule_type="one_time",
                run_at=when,
                name=f"new {i}",
            )
            due[task.pk] = when.timestamp()
        else:
            services.emit(f"wake.{i}", {"n": i})
            due[listeners[i]] = time.time()
        time.sleep(rng.expovariate(rate))
    deadline = time.time() + 60
    while time.time() < deadline:
        with connection.cursor() as cur:
            cur.execute("SELECT count(DISTINCT task_id) FROM benchapp_hit")
            if cur.fetchone()[0] >= len(due):
                break
        time.sleep(0.5)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT task_id, extract(epoch FROM min(at)) FROM benchapp_hit GROUP BY task_id"
        )
        started = {task_id: float(at) for task_id, at in cur.fetchall()}
    latencies = [started[pk] - at for pk, at in due.items() if pk in started]
    idle_from = cpu_seconds(daemon.pid)
    time.sleep(20)
    idle_cpu = cpu_seconds(daemon.pid) - idle_from
    os.killpg(daemon.pid, signal.SIGTERM)
    daemon.wait(60)
    return {
        "n": len(latencies),
        "missing": len(due) - len(latencies),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "idle_cpu": idle_cpu / 20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="triggers per second")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    common.setup()
    runs = []
    for r in range(args.repeat):
        result = run(args.triggers, args.rate, seed=r)
        runs.append(result)
        print(
            f"  {result['n']} triggers: p50 {result['p50']:.3f} s, p99 {result['p99']:.3f} s, "
            f"max {result['max']:.3f} s, never started {result['missing']}; idle daemon "
            f"{100 * result['idle_cpu']:.2f}% of a core",
            flush=True,
        )
    print(
        f"wake-up over {args.triggers} triggers: p50 {common.span([r['p50'] for r in runs])} s, "
        f"p99 {common.span([r['p99'] for r in runs])} s; idle daemon "
        f"{common.span([100 * r['idle_cpu'] for r in runs])}% of a core"
    )


if __name__ == "__main__":
    main()

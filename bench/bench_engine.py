"""All engine benchmarks, one after another (each is also a command of its own).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduler_bench .venv/bin/python bench/bench_engine.py [NAME ...]

NAME: burst (bench_burst.py), fleet (bench_fleet.py), wakeup (bench_wakeup.py),
idle (bench_idle.py), rq (bench_rq.py), celery (bench_celery.py, where
django-tasks-celery is installed: Django 6); none: all of them. Extra options go
to each command's own ``--help``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("burst", "fleet", "wakeup", "idle", "rq", "celery")


def main() -> None:
    everything = [
        name
        for name in NAMES
        if name != "celery" or importlib.util.find_spec("django_tasks_celery") is not None
    ]
    chosen = [a for a in sys.argv[1:] if a in NAMES] or everything
    for name in chosen:
        print(f"== bench_{name}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / f"bench_{name}.py")])
        if code:
            sys.exit(code)


if __name__ == "__main__":
    main()

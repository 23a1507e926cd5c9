"""Commands of the peers' project, run with the peers' virtualenv by bench_peers.py.

python -m bench.peers.ctl migrate
python -m bench.peers.ctl apscheduler-add N     # N date jobs, due a second ago
python -m bench.peers.ctl apscheduler-run       # a BlockingScheduler on DjangoJobStore
python -m bench.peers.ctl procrastinate-defer N  # N jobs in procrastinate's queue
"""

from __future__ import annotations

import datetime as dt
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.settings")


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def apscheduler_add(n: int) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from django_apscheduler.jobstores import DjangoJobStore

    scheduler = BackgroundScheduler(jobstores={"default": DjangoJobStore()})
    scheduler.start(paused=True)  # jobs go straight into the job store, none runs here
    due = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    for i in range(n):
        scheduler.add_job(
            "bench.peers.hits.jobs:insert_hit",
            "date",
            run_date=due,
            args=[i],
            id=str(i),
            # APScheduler's default grace is 1 s: jobs found later than that after their
            # time are skipped as misfired, and a 2,000-job burst is found later.
            misfire_grace_time=None,
        )
    # No shutdown(): a stopped scheduler's thread would look for due jobs once more (and
    # run them, were its executor still up). Its thread is a daemon; the process just ends.


def apscheduler_run() -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler
    from django_apscheduler.jobstores import DjangoJobStore

    scheduler = BlockingScheduler(jobstores={"default": DjangoJobStore()})
    scheduler.start()


def procrastinate_defer(n: int) -> None:
    from bench.peers.hits.tasks import insert_hit

    for start in range(0, n, 1000):
        insert_hit.batch_defer(*({"job": i} for i in range(start, min(n, start + 1000))))


def main() -> None:
    import django

    django.setup()
    command, *args = sys.argv[1:]
    {
        "migrate": migrate,
        "apscheduler-add": lambda: apscheduler_add(int(args[0])),
        "apscheduler-run": apscheduler_run,
        "procrastinate-defer": lambda: procrastinate_defer(int(args[0])),
    }[command]()


if __name__ == "__main__":
    main()

"""Benchmark the HTTP API's task list beside the admin changelist, at 100,000 tasks on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sched_bench python bench/bench_api.py
    python bench/bench_api.py --tasks 10000 --logs 10000 --refill   # smaller, rebuilt

The database is set up as by bench/bench_admin.py (same fill, same users).
Each page is requested ``--requests`` times in a row through Django's test
client, in-process (no network, no server): the report gives the number of
SQL queries of one request and the requests per second, the admin
changelist measured in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DEBUG", "false")

from bench.bench_admin import ensure_database, fill, users  # noqa: E402


def rate(client, url: str, requests: int, rounds: int) -> tuple[int, int, list[float]]:  # noqa: ANN001
    """Status and queries of one request, and requests per second of each round."""
    from django.db import connection

    response = client.get(url)  # warm caches
    queries: list[str] = []

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            client.get(url)
        rates.append(requests / (time.perf_counter() - started))
    return response.status_code, len(queries), rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="Requests per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
    ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    # Throttling would cut the run short; it is not what is measured.
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}
    call_command("migrate", verbosity=0)
    fill(args.tasks, args.logs, args.refill)
    people = users()
    changelist = reverse("admin:scheduler_app_scheduledtask_changelist")
    api = "/api/scheduler/tasks/"
    pages = [
        ("admin", "admin changelist, page 1", changelist),
        ("admin", "API list, page 1 (50)", api),
        ("admin", "admin changelist, status=failed", changelist + "?status__exact=failed"),
        ("admin", "API list, status=failed", api + "?status=failed"),
        ("admin", "API list, page 1000", api + "?page=1000"),
        ("admin", "API list, page_size=500", api + "?page_size=500"),
        ("admin", "API list, search", api + "?search=Bench+task+4242"),
        ("reports user", "admin changelist, page 1", changelist),
        ("reports user", "API list, page 1 (50)", api),
        ("owner only", "admin changelist, page 1", changelist),
        ("owner only", "API list, page 1 (50)", api),
    ]
    print(f"{args.tasks:,} tasks; {args.rounds} rounds of {args.requests} requests each")
    print(f"{'user':<13} {'page':<34} {'status':>6} {'queries':>8} {'req/s (min-max)':>18}")
    for who, label, page_url in pages:
        client = Client()
        client.force_login(people[who])
        status, queries, rates = rate(client, page_url, args.requests, args.rounds)
        spread = f"{min(rates):.1f}-{max(rates):.1f}"
        print(
            f"{who:<13} {label:<34} {status:>6} {queries:>8} {spread:>18}"
            f"  (median {statistics.median(rates):.1f})"
        )


if __name__ == "__main__":
    main()

"""Benchmark the scheduler admin at scale: 100,000 tasks and 1,000,000 log rows on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sched_bench python bench/bench_admin.py
    python bench/bench_admin.py --tasks 10000 --logs 100000 --refill   # smaller, rebuilt

The database is created if missing, migrated, and filled once with
``generate_series`` (``--refill`` empties it first). Each page is requested
through Django's test client; the report gives the number of SQL queries and
the median wall time of ``--repeat`` requests, so a change that adds an N+1
query or loses an index shows up as a different count or a jump in time.
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

HEAVY_SHARE = 0.1  # the share of the log rows that belong to one task (its page is the worst case)


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    admin_dsn = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in admin_dsn.items() if v is not None}) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def task_insert_sql(count: int) -> tuple[str, list]:
    """One INSERT … SELECT FROM generate_series for ``count`` tasks; other columns take defaults."""
    from django.db import connection

    from scheduler_app.models import ScheduledTask

    expressions = {
        "module_id": "'reports'",
        "task_type": "(ARRAY['generate_report','email_report','export_report'])[1 + g %% 3]",
        "name": "'Bench task ' || g",
        "owner_id": "(SELECT min(id) FROM auth_user) + g %% 50",
        "status": "CASE WHEN g %% 97 = 0 THEN 'failed' WHEN g %% 89 = 0 THEN 'paused' "
        "ELSE 'pending' END",
        "schedule_type": "'cron'",
        "cron_expression": "(ARRAY['*/5 * * * *','0 6 * * 1-5','30 2 * * *'])[1 + g %% 3]",
        "timezone": "(ARRAY['UTC','Europe/Berlin','America/New_York'])[1 + g %% 3]",
        "priority": "1 + g %% 10",
        "tags": "('[\"bench\", \"t' || (g %% 20) || '\"]')::jsonb",
        "next_run": "now() + (g %% 10080) * interval '1 minute'",
        "occurrence_at": "now() + (g %% 10080) * interval '1 minute'",
        "last_run": "now() - (g %% 1440) * interval '1 minute'",
        "last_status": "CASE WHEN g %% 97 = 0 THEN 'failed' ELSE 'success' END",
        "failure_streak": "CASE WHEN g %% 97 = 0 THEN 1 + g %% 5 ELSE 0 END",
        "error_message": "CASE WHEN g %% 97 = 0 THEN 'Sending the e-mail failed' ELSE '' END",
        "run_count": "g %% 300",
        "created_at": "now() - interval '40 days'",
        "updated_at": "now()",
    }
    template = ScheduledTask(
        module_id="reports", task_type="email_report", name="x", schedule_type="cron"
    )
    columns, values, params = [], [], []
    for field in ScheduledTask._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in expressions:
            values.append(expressions[field.attname])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    sql = (
        f"INSERT INTO {ScheduledTask._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {int(count)}) AS g"
    )
    return sql, params


def log_insert_sql(logs: int, tasks: int) -> list[str]:
    """Log rows over the last 30 days: most spread over the tasks, a tenth on one heavy task."""
    from scheduler_app.models import TaskExecutionLog

    table = TaskExecutionLog._meta.db_table
    heavy = int(logs * HEAVY_SHARE)
    spread = logs - heavy
    columns = (
        "task_id, run_id, scheduled_for, attempt, status, started_at, finished_at, duration, "
        "error_message, traceback, output, host, pid, triggered_by, interrupt_requested_by"
    )
    row = (
        "{task}, md5(g::text || '{salt}'), ts, 1, "
        "CASE WHEN g % 13 = 0 THEN 'failed' WHEN g % 101 = 0 THEN 'timeout' ELSE 'success' END, "
        "ts, ts + (d * interval '1 second'), d, "
        "CASE WHEN g % 13 = 0 THEN 'Sending the e-mail failed' ELSE '' END, '', '', 'bench', 1, '', ''"
    )
    base = "(SELECT min(id) FROM scheduler_app_scheduledtask)"
    spread_tasks = max(1, tasks - 1)
    return [
        f"INSERT INTO {table} ({columns}) SELECT "
        + row.format(task=f"{base} + g % {spread_tasks}", salt="s")
        + f" FROM (SELECT g, now() - g * (interval '30 days' / {spread}) AS ts, "
        f"0.05 + (g % 1000) / 100.0 AS d FROM generate_series(1, {spread}) AS g) AS src",
        f"INSERT INTO {table} ({columns}) SELECT "
        + row.format(task=f"{base} + {tasks - 1}", salt="h")
        + f" FROM (SELECT g, now() - g * (interval '30 days' / {max(heavy, 1)}) AS ts, "
        f"0.5 + (g % 400) / 20.0 AS d FROM generate_series(1, {heavy}) AS g) AS src",
    ]


def fill(tasks: int, logs: int, refill: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from scheduler_app.models import ScheduledTask, TaskExecutionLog

    User = get_user_model()
    if refill:
        with connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {TaskExecutionLog._meta.db_table}, "
                f"{ScheduledTask._meta.db_table} RESTART IDENTITY CASCADE"
            )
    if ScheduledTask.objects.count() >= tasks and TaskExecutionLog.objects.count() >= logs:
        print(f"reusing {tasks:,} tasks / {logs:,} logs already in the database")
        return
    started = time.perf_counter()
    with transaction.atomic():
        missing = 50 - User.objects.filter(username__startswith="bench-owner").count()
        User.objects.bulk_create(
            [
                User(username=f"bench-owner-{n}-{time.time_ns()}", password="!")
                for n in range(missing)
            ]
        )
        sql, params = task_insert_sql(tasks)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for statement in log_insert_sql(logs, tasks):
                cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {tasks:,} tasks and {logs:,} logs in {time.perf_counter() - started:.1f} s")


def users() -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from scheduler_app.models import ScheduledTask
    from tests.conftest import grant

    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    module_user, created = User.objects.get_or_create(
        username="bench-reports", defaults={"is_staff": True}
    )
    if created:
        grant(module_user, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")
    owner = ScheduledTask.objects.order_by("pk").first().owner
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    grant(owner, "scheduler_app.SA_SCHEDULER")
    return {"admin": admin, "reports user": module_user, "owner only": owner}


def measure(client, url: str, repeat: int, cold: bool = False) -> tuple[int, float, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm caches
    status = response.status_code
    timings = []
    for _ in range(repeat):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
    return len(queries), statistics.median(timings) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--refill", action="store_true", help="Empty the tables and fill them again."
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from scheduler_app.models import ScheduledTask

    setup_test_environment()
    call_command("migrate", verbosity=0)
    fill(args.tasks, args.logs, args.refill)
    people = users()
    heavy = ScheduledTask.objects.order_by("-pk").first()
    typical = ScheduledTask.objects.order_by("pk")[10]
    log = heavy.logs.order_by("-started_at").first()
    changelist = reverse("admin:scheduler_app_scheduledtask_changelist")
    pages = [
        ("admin", "changelist, page 1", changelist),
        ("admin", "changelist, page 1000", changelist + "?p=1000"),
        ("admin", "changelist, status=failed", changelist + "?status__exact=failed"),
        ("admin", "changelist, tag=t7", changelist + "?tag=t7"),
        ("admin", "changelist, search", changelist + "?q=Bench+task+4242"),
        ("admin", "changelist, sort by next run", changelist + "?o=5"),
        ("reports user", "changelist, page 1", changelist),
        ("owner only", "changelist, page 1", changelist),
        (
            "admin",
            f"task page ({heavy.logs.count():,} logs)",
            reverse("admin:scheduler_app_scheduledtask_change", args=[heavy.pk]),
        ),
        (
            "admin",
            "task page, history page 200",
            reverse("admin:scheduler_app_scheduledtask_change", args=[heavy.pk]) + "?logs_page=200",
        ),
        (
            "admin",
            f"task page ({typical.logs.count():,} logs)",
            reverse("admin:scheduler_app_scheduledtask_change", args=[typical.pk]),
        ),
        (
            "admin",
            "log detail",
            reverse("admin:scheduler_app_scheduledtask_log", args=[heavy.pk, log.pk]),
        ),
        ("admin", "dashboard", reverse("admin:scheduler_app_scheduledtask_dashboard")),
        (
            "admin",
            "dashboard, charts not cached",
            "cold:" + reverse("admin:scheduler_app_scheduledtask_dashboard"),
        ),
        ("reports user", "dashboard", reverse("admin:scheduler_app_scheduledtask_dashboard")),
        (
            "reports user",
            "dashboard, charts not cached",
            "cold:" + reverse("admin:scheduler_app_scheduledtask_dashboard"),
        ),
    ]
    print(f"{'user':<13} {'page':<34} {'status':>6} {'queries':>8} {'median ms':>10}")
    for who, label, page_url in pages:
        client = Client()
        client.force_login(people[who])
        cold = page_url.startswith("cold:")
        count, ms, status = measure(client, page_url.removeprefix("cold:"), args.repeat, cold)
        print(f"{who:<13} {label:<34} {status:>6} {count:>8} {ms:>10.1f}")


if __name__ == "__main__":
    main()

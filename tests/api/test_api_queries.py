"""The task list costs the same number of queries for 10 tasks as for 1,000.

Counted with session authentication (a token's last-used time is written at
most once a minute, which would make the count depend on the clock).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from scheduler_app.models import ScheduledTask
from scheduler_app.policy import permissions
from tests.api.conftest import API, BASE

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def add_tasks(count: int, owner, shared_with=None) -> None:  # noqa: ANN001
    """``count`` tasks: most owned by ``owner``, every tenth shared with ``shared_with``."""
    ScheduledTask.objects.bulk_create(
        [
            ScheduledTask(
                module_id="testmod",
                task_type="record",
                name=f"task {n}",
                owner=owner,
                schedule_type="cron",
                cron_expression="*/5 * * * *",
                next_run=NOW + dt.timedelta(minutes=n),
                tags=["bulk"],
                config={"note": str(n)},
            )
            for n in range(count)
        ]
    )
    if shared_with is not None:
        shared = ScheduledTask.objects.filter(
            pk__in=list(
                ScheduledTask.objects.order_by("pk").values_list("pk", flat=True)[
                    : max(1, count // 10)
                ]
            )
        )
        for codename in ("view_scheduledtask", "run_scheduledtask"):  # as services.share does
            assign_perm(f"scheduler_app.{codename}", shared_with, shared)


def count_queries(client, url: str) -> int:  # noqa: ANN001
    client.get(url)  # warm per-process caches (content types, the permission codenames)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


ROLES = {
    "scheduler admin": (permissions.SCHEDULER_ADMIN,),
    "module user": (permissions.SCHEDULER, BASE),
    "owner only": (permissions.SCHEDULER,),
    "shared user": (),
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("query", ["?page_size=500", "?status=pending&tag=bulk&ordering=-next_run"])
def test_list_queries_do_not_grow_with_the_rows(make_user, client_for, role, query):
    counts = []
    for size in (10, 1000):
        ScheduledTask.objects.all().delete()
        owner = make_user(permissions.SCHEDULER, BASE)
        user = make_user(*ROLES[role])
        add_tasks(size, user if role == "owner only" else owner, shared_with=user)
        client = client_for(user)
        counts.append(count_queries(client, f"{API}tasks/{query}"))
        rows = client.get(f"{API}tasks/{query}").json()
        assert rows["count"] == {
            "owner only": size,
            "shared user": max(1, size // 10),
        }.get(role, size)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 9, counts


def test_detail_and_history_queries_are_constant(make_user, client_for, make_task):
    from scheduler_app.models import RunStatus, TaskExecutionLog

    user = make_user(permissions.SCHEDULER, BASE)
    client = client_for(user)
    counts = []
    for runs in (10, 1000):
        task = make_task(owner=user)
        TaskExecutionLog.objects.bulk_create(
            [
                TaskExecutionLog(
                    task=task,
                    run_id=f"r{n}",
                    scheduled_for=NOW + dt.timedelta(minutes=n),
                    status=RunStatus.SUCCESS,
                )
                for n in range(runs)
            ]
        )
        counts.append(
            (
                count_queries(client, f"{API}tasks/{task.pk}/"),
                count_queries(client, f"{API}tasks/{task.pk}/runs/?page_size=500"),
            )
        )
    assert counts[0] == counts[1], counts

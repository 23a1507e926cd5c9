"""The data behind a report: one function per source, each a header and rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from project.reports.models import Report, ReportSource
from scheduler_app.models import ScheduledTask, TaskExecutionLog


@dataclass(frozen=True)
class Table:
    """A rendered report: column titles and rows of strings."""

    title: str
    header: list[str]
    rows: list[list[str]]
    generated_at: dt.datetime

    def to_csv(self, on_row: Callable[[int, int], None] | None = None) -> str:
        """The table as CSV; ``on_row(done, total)`` is called after each row (progress)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        if on_row is None:
            writer.writerows(self.rows)
        else:
            total = len(self.rows)
            for done, row in enumerate(self.rows, 1):
                writer.writerow(row)
                on_row(done, total)
        return buffer.getvalue()


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _users(report: Report, now: dt.datetime) -> tuple[list[str], list[list[str]]]:
    header = ["username", "email", "full name", "staff", "active", "joined", "last login"]
    rows = [
        [
            u.get_username(),
            u.email,
            u.get_full_name(),
            "yes" if u.is_staff else "no",
            "yes" if u.is_active else "no",
            _when(u.date_joined),
            _when(u.last_login),
        ]
        for u in get_user_model().objects.order_by("pk")
    ]
    return header, rows


def _scheduled_tasks(report: Report, now: dt.datetime) -> tuple[list[str], list[list[str]]]:
    header = [
        "id",
        "module",
        "task type",
        "name",
        "status",
        "schedule",
        "next run",
        "last run",
        "last run status",
        "owner",
    ]
    tasks = ScheduledTask.objects.select_related("owner").order_by("module_id", "task_type", "pk")
    rows = [
        [
            str(t.pk),
            t.module_id,
            t.task_type,
            t.name,
            t.status,
            t.describe_schedule(),
            _when(t.next_run),
            _when(t.last_run),
            t.last_status,
            t.owner.get_username() if t.owner else "",
        ]
        for t in tasks
    ]
    return header, rows


def _run_summary(report: Report, now: dt.datetime) -> tuple[list[str], list[list[str]]]:
    header = ["module", "task type", "status", "runs", "since"]
    since = now - dt.timedelta(days=report.period_days)
    counts = (
        TaskExecutionLog.objects.filter(started_at__gte=since)
        .values("task__module_id", "task__task_type", "status")
        .annotate(runs=Count("pk"))
        .order_by("task__module_id", "task__task_type", "status")
    )
    rows = [
        [c["task__module_id"], c["task__task_type"], c["status"], str(c["runs"]), _when(since)]
        for c in counts
    ]
    return header, rows


SOURCES: dict[str, Callable[[Report, dt.datetime], tuple[list[str], list[list[str]]]]] = {
    ReportSource.USERS: _users,
    ReportSource.SCHEDULED_TASKS: _scheduled_tasks,
    ReportSource.RUN_SUMMARY: _run_summary,
}


def build(report: Report, now: dt.datetime | None = None) -> Table:
    """Query the report's source; a constant number of queries per source."""
    now = now or timezone.now()
    try:
        source = SOURCES[report.source]
    except KeyError:
        raise ValueError(
            f"Report “{report.name}” has an unknown source “{report.source}”."
        ) from None
    header, rows = source(report, now)
    return Table(title=report.name, header=header, rows=rows, generated_at=now)

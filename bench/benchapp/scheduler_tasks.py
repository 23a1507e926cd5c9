"""Task types of the benchmarks: bodies that commit one row (after waiting on I/O, or after
burning CPU), and one that does nothing."""

import os
import time

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register

IO_SECONDS = 0.05  # an API call
CPU_SECONDS = 0.02  # a little parsing or rendering


def _hit(context) -> None:  # noqa: ANN001
    from bench.benchapp.models import Hit

    Hit.objects.create(task_id=context.task_id, pid=os.getpid())  # autocommit: its own commit


class InsertRow(SchedulableTask):
    name = "Insert one row"

    def execute(self, context):
        _hit(context)
        return TaskResult.success()


class WaitThenInsert(SchedulableTask):
    name = "Wait 50 ms on I/O, insert one row"

    def execute(self, context):
        time.sleep(IO_SECONDS)
        _hit(context)
        return TaskResult.success()


class BurnThenInsert(SchedulableTask):
    name = "Burn 20 ms of CPU, insert one row"

    def execute(self, context):
        until = time.process_time() + CPU_SECONDS
        while time.process_time() < until:
            pass
        _hit(context)
        return TaskResult.success()


class Noop(SchedulableTask):
    name = "Do nothing"

    def execute(self, context):
        return TaskResult.success()


ROWS = 200_000


def _rows(context, *, build: bool, report: bool) -> dict:  # noqa: ANN001
    """A report's inner loop, one CSV row at a time, timed from inside the body.

    ``build``: each row is made as the demo's users report makes it (two times formatted,
    flags spelled out); otherwise one fixed row is written again and again (the worst case
    for progress(): the least work per call).
    """
    import csv
    import datetime as dt
    import io

    fixed = ["user000001", "user000001@example.com", "A. User", "no", "yes", "2026-01-01", ""]
    joined = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    writer = csv.writer(io.StringIO(), lineterminator="\n")
    started = time.perf_counter()
    for done in range(1, ROWS + 1):
        if build:
            when = joined + dt.timedelta(minutes=done)
            writer.writerow(
                [
                    f"user{done:06d}",
                    f"user{done:06d}@example.com",
                    " ".join(("A.", "User")),
                    "yes" if done % 7 == 0 else "no",
                    "yes" if done % 3 else "no",
                    when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                    (when + dt.timedelta(days=30))
                    .astimezone(dt.UTC)
                    .strftime("%Y-%m-%d %H:%M:%S UTC"),
                ]
            )
        else:
            writer.writerow(fixed)
        if report:
            context.progress(done, ROWS, "Writing rows")
    return {"seconds": time.perf_counter() - started}


def _rows_task(label: str, *, build: bool, report: bool) -> type[SchedulableTask]:
    class Rows(SchedulableTask):
        name = label

        def execute(self, context):
            return TaskResult.success(data=_rows(context, build=build, report=report))

    return Rows


@register
class BenchProvider(TaskProvider):
    module_id = "bench"
    base_permission = "SA_BENCH"
    task_types = {
        "insert_row": InsertRow,
        "io_wait": WaitThenInsert,
        "cpu_burn": BurnThenInsert,
        "noop": Noop,
        "report_rows": _rows_task("Build and write report rows", build=True, report=False),
        "report_rows_progress": _rows_task(
            "Build and write report rows, reporting each", build=True, report=True
        ),
        "csv_rows": _rows_task("Write a fixed CSV row", build=False, report=False),
        "csv_rows_progress": _rows_task(
            "Write a fixed CSV row, reporting each", build=False, report=True
        ),
    }

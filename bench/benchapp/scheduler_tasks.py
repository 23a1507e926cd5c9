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


@register
class BenchProvider(TaskProvider):
    module_id = "bench"
    base_permission = "SA_BENCH"
    task_types = {
        "insert_row": InsertRow,
        "io_wait": WaitThenInsert,
        "cpu_burn": BurnThenInsert,
        "noop": Noop,
    }

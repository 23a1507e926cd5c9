"""Task types of the benchmarks: a body that inserts one row, and one that does nothing."""

import os

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register


class InsertRow(SchedulableTask):
    name = "Insert one row"

    def execute(self, context):
        from bench.benchapp.models import Hit

        Hit.objects.create(task_id=context.task_id, pid=os.getpid())  # autocommit: its own commit
        return TaskResult.success()


class Noop(SchedulableTask):
    name = "Do nothing"

    def execute(self, context):
        return TaskResult.success()


@register
class BenchProvider(TaskProvider):
    module_id = "bench"
    base_permission = "SA_BENCH"
    task_types = {"insert_row": InsertRow, "noop": Noop}

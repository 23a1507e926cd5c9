"""Clear overlap locks left behind (e.g. after a host was lost)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from scheduler_app.engine import locks
from scheduler_app.management.acting import acting_user, add_as_user_argument, task_for
from scheduler_app.models import ScheduledTask


class Command(BaseCommand):
    help = "Clear the overlap lock of one task, or of every task that is not running."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("task_id", nargs="?", type=int)
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        if options["task_id"] is not None:
            task = task_for(options["task_id"], user)
            held = locks.clear_lock(task.pk)
            self.stdout.write(f"Task {task.pk}: lock {'cleared' if held else 'was not held'}.")
            return
        # Locks of running tasks protect live runs; leave them.
        ids = ScheduledTask.objects.exclude(status="running").values_list("pk", flat=True)
        cleared = 0
        for chunk in _chunks(ids.iterator(chunk_size=2000), 1000):
            cleared += sum(1 for pk in chunk if locks.is_locked(pk))
            locks.release_many(chunk)
        self.stdout.write(f"Cleared {cleared} lock(s).")


def _chunks(iterable, size: int):  # noqa: ANN001, ANN202
    chunk: list[int] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

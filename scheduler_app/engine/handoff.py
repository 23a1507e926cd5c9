"""Hand claimed runs to Django's Tasks framework (``SCHEDULER["EXECUTION"] = "tasks"``).

The scheduler still claims each occurrence exactly once and writes its log
row; instead of running the body it enqueues ``run_scheduled`` on the
configured django.tasks backend (database, RQ, Celery ...), so workers on
other machines run it. The log row says ``enqueued`` until a worker takes
it; the worker flips it to ``running`` with a compare-and-set, so a run that
was given up meanwhile (its lease expired and the scheduler recovered it) is
never executed twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from scheduler_app import conf
from scheduler_app.engine import claiming
from scheduler_app.engine.claiming import Lease
from scheduler_app.engine.inline_pool import InlinePool
from scheduler_app.engine.runspec import RunSpec
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, TaskStatus

try:  # Django 6.x ships the framework; on 5.2 the django-tasks backport provides it.
    from django.tasks import task as tasks_task
except ImportError:  # pragma: no cover - exercised on Django 5.2
    from django_tasks import task as tasks_task  # type: ignore[no-redef]

logger = logging.getLogger("scheduler_app.engine")


def _spec_to_args(spec: RunSpec) -> dict[str, Any]:
    data = asdict(spec)
    data["scheduled_for"] = spec.scheduled_for.isoformat() if spec.scheduled_for else None
    return data


def _spec_from_args(data: dict[str, Any]) -> RunSpec:
    data = dict(data)
    if data.get("scheduled_for"):
        data["scheduled_for"] = dt.datetime.fromisoformat(data["scheduled_for"])
    return RunSpec(**data)


@tasks_task()
def run_scheduled(spec: dict[str, Any], lease_token: str) -> str:
    """Execute one claimed run in a Tasks-framework worker and record it."""
    from scheduler_app.engine import recording

    run = _spec_from_args(spec)
    settings = conf.get()
    now = timezone.now()
    with transaction.atomic():
        started = TaskExecutionLog.objects.filter(pk=run.log_id, status=RunStatus.ENQUEUED).update(
            status=RunStatus.RUNNING, started_at=now
        )
        if started:
            # The body may take up to its timeout: hold the lease that long.
            ScheduledTask.objects.filter(
                pk=run.task_id, lease_token=lease_token, status=TaskStatus.RUNNING
            ).update(
                lease_expires_at=now + dt.timedelta(seconds=run.timeout + settings.LEASE_SECONDS)
            )
    if not started:
        logger.warning(
            "Run %s of task %s is no longer enqueued (given up, or delivered again after a "
            "worker took it); not run.",
            run.run_id,
            run.task_id,
        )
        return "abandoned"
    # The task's timeout, as the scheduler's own workers enforce it (SIGALRM in the
    # worker's main thread, where RQ, django-tasks-db and Celery's prefork and solo
    # pools run jobs).
    outcome = InlinePool(settings.OUTPUT_LIMIT).run_one(run)
    row = ScheduledTask.objects.filter(pk=run.task_id).values(*claiming.CLAIM_FIELDS).first()
    if row is None:
        return "deleted"
    lease = Lease(lease_token, "", settings.LEASE_SECONDS, {run.task_id})
    recording.record([outcome], {run.task_id: row}, lease, settings)
    return outcome.kind


def bound_task() -> Any:
    """``run_scheduled`` on the configured backend and queue (``TASKS_BACKEND``, ``TASKS_QUEUE``)."""
    settings = conf.get()
    return run_scheduled.using(backend=settings.TASKS_BACKEND, queue_name=settings.TASKS_QUEUE)


def prepare() -> None:
    """Bind ``run_scheduled`` to the configured backend once, at start (``AppConfig.ready``).

    Binding validates the task on the backend, which is when backends that keep a
    registry of their own enter it there: django-tasks-celery registers it with the
    Celery app, and a Celery worker that has not done so discards its messages as an
    unregistered task. A backend that cannot be set up is left to the system checks
    (``scheduler_app.E015``) and to :func:`enqueue`, which logs each failure.
    """
    try:
        bound_task()
    except Exception as exc:  # noqa: BLE001 - reported by the checks and by enqueue()
        logger.warning(
            "The hand-off task could not be bound to the Tasks backend %r: %s",
            conf.get().TASKS_BACKEND,
            exc,
        )


class EnqueuingPass(Protocol):
    """What :func:`enqueue` needs of the running pass (``engine.passes.SchedulerPass``).

    A protocol, not an import: the pass imports this module to hand runs off.
    """

    lease: Lease

    def mark_enqueued(self, task_id: int) -> None: ...


def enqueue(scheduler_pass: EnqueuingPass, specs: list[RunSpec]) -> None:
    """Enqueue ``specs`` on the configured backend; their log rows become ``enqueued``."""
    settings = conf.get()
    task = bound_task()
    lease: Lease = scheduler_pass.lease
    now = timezone.now()
    # Until a worker takes them the runs wait in the queue: give their lease
    # the time a body may take plus the usual margin.
    longest = max(spec.timeout for spec in specs)
    with transaction.atomic():
        TaskExecutionLog.objects.filter(pk__in=[s.log_id for s in specs]).update(
            status=RunStatus.ENQUEUED, started_at=now
        )
        ScheduledTask.objects.filter(
            lease_token=lease.token, pk__in=[s.task_id for s in specs]
        ).update(lease_expires_at=now + dt.timedelta(seconds=longest + 10 * settings.LEASE_SECONDS))
    failed: list[RunSpec] = []
    for spec in specs:
        try:
            task.enqueue(_spec_to_args(spec), lease.token)
        except Exception:  # noqa: BLE001 - a broken backend leaves the run to lease recovery
            logger.exception(
                "Could not enqueue task %s on backend %r.", spec.task_id, settings.TASKS_BACKEND
            )
            failed.append(spec)
    if failed:
        claiming.release(lease, [s.task_id for s in failed], [])
        TaskExecutionLog.objects.filter(pk__in=[s.log_id for s in failed]).delete()
    for spec in specs:
        if spec not in failed:
            scheduler_pass.mark_enqueued(spec.task_id)
    # The lease now belongs to the queued runs; this pass no longer renews it.
    lease.claimed_ids.difference_update(s.task_id for s in specs)

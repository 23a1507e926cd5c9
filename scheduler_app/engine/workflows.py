"""Advance workflow runs when their steps end: fan-out along edges, fan-in by the join rule.

Called by :func:`scheduler_app.engine.recording.record` inside the transaction
that writes the runs' outcomes, so a step started here is due exactly when
its parent's end is committed.

* A task with outgoing edges that runs outside a workflow run starts one (it
  is the run's root); every task reachable from it gets a ``planned`` step.
* Each execution log row of the run carries its id, attempts and approval
  waits included (the task keeps ``workflow_run`` until its step ends).
* A step ends with its occurrence: success, failure once retries are spent,
  or skipped. A run that will be retried, or a body that answered "not yet"
  (an approval waiting for a person), keeps the step open.
* **Join rule.** A step starts once every parent planned in the run has
  ended, and only if *every* incoming edge from those parents holds
  (``success``: the parent succeeded; ``failure``: it failed; ``always``:
  it succeeded or failed). Otherwise the step is skipped in this run, and a
  skipped step starts nothing (its children are skipped in turn, so every
  join still resolves). "Continue if any parent failed" is one ``failure``
  edge into a step of its own.
* A run ends when none of its steps is open: failed if any step failed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from scheduler_app.engine import wake
from scheduler_app.engine.runspec import (
    CANCELLED,
    CONDITION_UNMET,
    FAILED,
    PENDING,
    SKIPPED,
    SUCCESS,
    TIMEOUT,
    Outcome,
)
from scheduler_app.engine.settle import ABANDONED
from scheduler_app.models import (
    FINAL_STEP_STATUSES,
    EdgeCondition,
    ScheduledTask,
    StepStatus,
    TaskExecutionLog,
    TaskStatus,
    WorkflowEdge,
    WorkflowRun,
    WorkflowRunStatus,
    WorkflowStep,
    lifecycle,
)

FAILED_KINDS = (FAILED, TIMEOUT, ABANDONED, CANCELLED)
#: Most tasks one run plans (a bound on the reachability walk).
MAX_STEPS = 500

#: Which parent outcomes satisfy an edge of each condition.
HOLDS: dict[str, frozenset[str]] = {
    EdgeCondition.SUCCESS: frozenset({StepStatus.SUCCESS}),
    EdgeCondition.FAILURE: frozenset({StepStatus.FAILED}),
    EdgeCondition.ALWAYS: frozenset({StepStatus.SUCCESS, StepStatus.FAILED}),
}


def exist() -> bool:
    """Whether any workflow edge exists (a pass asks once, not per run)."""
    return WorkflowEdge.objects.exists()


def step_status(outcome: Outcome, row: dict, values: dict) -> str:
    """The step state an outcome leaves its task in (open: queued or waiting)."""
    if outcome.kind == SUCCESS:
        return StepStatus.SUCCESS
    if outcome.kind == PENDING:
        return StepStatus.WAITING
    if outcome.kind == SKIPPED:
        return StepStatus.SKIPPED
    if outcome.kind in FAILED_KINDS:
        retrying = values.get("retry_count", 0) > row.get("retry_count", 0)
        return StepStatus.QUEUED if retrying else StepStatus.FAILED
    return StepStatus.QUEUED


def advance(
    outcomes: list[Outcome],
    rows: dict[int, dict],
    task_values: dict[int, dict],
    now: dt.datetime,
) -> int:
    """Record ``outcomes`` in their workflow runs and start what they unblock.

    Returns how many steps were made due.
    """
    ended = [o for o in outcomes if o.kind != CONDITION_UNMET]
    if not ended:
        return 0
    task_ids = sorted({o.spec.task_id for o in ended})
    current = dict(
        ScheduledTask.objects.filter(pk__in=task_ids).values_list("pk", "workflow_run_id")
    )
    with_children = set(
        WorkflowEdge.objects.from_tasks(task_ids).values_list("source_id", flat=True)
    )
    started: dict[int, int] = {}
    finals: list[tuple[int, int, str]] = []  # (run, task, status)
    keep: dict[int, int | None] = {}
    logs_by_run: dict[int, list[int]] = defaultdict(list)
    for o in ended:
        tid = o.spec.task_id
        run_id = current.get(tid)
        status = step_status(o, rows.get(tid, {}), task_values.get(tid, {}))
        if run_id is None:
            if tid not in with_children or status == StepStatus.SKIPPED:
                continue
            if tid not in started:
                started[tid] = _start_run(tid, rows.get(tid, {}).get("name", ""), now)
            run_id = started[tid]
        logs_by_run[run_id].append(o.spec.log_id)
        if status in FINAL_STEP_STATUSES:
            finals.append((run_id, tid, status))
            keep[tid] = None
        else:
            _set_step(run_id, tid, status, now)
            keep[tid] = run_id
    for run_id, log_ids in logs_by_run.items():
        TaskExecutionLog.objects.filter(pk__in=log_ids).update(workflow_run_id=run_id)
    for tid, run_id in keep.items():
        if current.get(tid) != run_id:
            ScheduledTask.objects.filter(pk=tid).update(workflow_run_id=run_id)
    # Fan-in decisions read the steps of the run: lock the runs (PostgreSQL) so two
    # parents ending in two passes at once cannot both miss each other.
    runs = sorted({run for run, _, _ in finals})
    list(WorkflowRun.objects.select_for_update().filter(pk__in=runs).order_by("pk"))
    made_due = 0
    for run_id, tid, status in finals:
        made_due += _end_step(run_id, tid, status, now)
    _close_finished(runs, now)
    if made_due:
        wake.notify()
    return made_due


def _start_run(root_id: int, name: str, now: dt.datetime) -> int:
    """A new run rooted at ``root_id``, with a planned step for every reachable task."""
    run = WorkflowRun.objects.create(root_id=root_id, root_name=name[:200], started_at=now)
    reached = {root_id}
    frontier = [root_id]
    while frontier and len(reached) < MAX_STEPS:
        children = set(
            WorkflowEdge.objects.from_tasks(frontier).values_list("target_id", flat=True)
        )
        frontier = sorted(children - reached)
        reached.update(frontier)
    WorkflowStep.objects.bulk_create(
        [
            WorkflowStep(
                run=run,
                task_id=tid,
                status=StepStatus.QUEUED if tid == root_id else StepStatus.PLANNED,
                updated_at=now,
            )
            for tid in sorted(reached)
        ]
    )
    return run.pk


def _set_step(run_id: int, task_id: int, status: str, now: dt.datetime) -> None:
    WorkflowStep.objects.update_or_create(
        run_id=run_id, task_id=task_id, defaults={"status": status, "updated_at": now}
    )


def _end_step(run_id: int, task_id: int, status: str, now: dt.datetime) -> int:
    """Record that ``task_id`` ended in ``run_id``; decide each child it may unblock."""
    made_due = 0
    todo = [(task_id, status)]
    while todo:
        tid, state = todo.pop(0)
        _set_step(run_id, tid, state, now)
        for child in _children(tid):
            verdict = _join(run_id, child)
            if verdict is None:
                continue  # another parent has not ended yet
            if verdict and _make_due(run_id, child, now):
                _set_step(run_id, child, StepStatus.QUEUED, now)
                made_due += 1
            elif not _already_decided(run_id, child):
                todo.append((child, StepStatus.SKIPPED))
    return made_due


def _children(task_id: int) -> list[int]:
    return list(
        WorkflowEdge.objects.filter(source_id=task_id)
        .order_by("target_id")
        .values_list("target_id", flat=True)
    )


def _join(run_id: int, task_id: int) -> bool | None:
    """Whether ``task_id`` runs in this run (None: a parent is still open)."""
    if _already_decided(run_id, task_id):
        return None
    edges = list(
        WorkflowEdge.objects.filter(target_id=task_id).values_list("source_id", "condition")
    )
    states = dict(
        WorkflowStep.objects.filter(run_id=run_id, task_id__in=[s for s, _ in edges]).values_list(
            "task_id", "status"
        )
    )
    # Parents outside this run (not reachable from its root) do not hold the join.
    involved = [(source, cond) for source, cond in edges if source in states]
    if any(states[source] not in FINAL_STEP_STATUSES for source, _ in involved):
        return None
    return all(states[source] in HOLDS[cond] for source, cond in involved)


def _already_decided(run_id: int, task_id: int) -> bool:
    return (
        WorkflowStep.objects.filter(run_id=run_id, task_id=task_id)
        .exclude(status=StepStatus.PLANNED)
        .exists()
    )


def _make_due(run_id: int, task_id: int, now: dt.datetime) -> bool:
    """Make ``task_id`` due now as a step of ``run_id``; False if it cannot run."""
    values = {"next_run": now, "occurrence_at": now, "workflow_run_id": run_id}
    ready = ScheduledTask.objects.filter(pk=task_id, enabled=True)
    # A pending task runs now (a slot already due keeps its place); a finished
    # one-time step runs again for every run of its workflow.
    moved = (
        ready.filter(status=TaskStatus.PENDING)
        .filter(Q(next_run__isnull=True) | Q(next_run__gt=now))
        .update(**values)
    )
    if not moved:
        moved = ready.filter(status=TaskStatus.PENDING, next_run__lte=now).update(
            workflow_run_id=run_id
        )
    for finished in (TaskStatus.SUCCESS, TaskStatus.FAILED):
        if not moved:
            moved = lifecycle.move(ready, finished, TaskStatus.PENDING, retry_count=0, **values)
    return bool(moved)


def _close_finished(run_ids: Iterable[int], now: dt.datetime) -> None:
    for run_id in run_ids:
        states = set(WorkflowStep.objects.filter(run_id=run_id).values_list("status", flat=True))
        if states - FINAL_STEP_STATUSES:
            continue
        outcome = (
            WorkflowRunStatus.FAILED if StepStatus.FAILED in states else WorkflowRunStatus.SUCCESS
        )
        WorkflowRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
            status=outcome, finished_at=now
        )

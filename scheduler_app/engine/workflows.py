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
* A step still open in another run (queued for a retry, waiting for an
  approval) is skipped in a run that reaches it: it never changes runs.
* A run ends when none of its steps is open: failed if any step failed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Q

from scheduler_app.engine import wake
from scheduler_app.engine.bulk import update_rows
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
    Approval,
    ApprovalStatus,
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

    A constant number of queries for any number of steps ending (a few more
    per run started or touched): the graph and the runs' steps are read once,
    the join is decided in memory, and the writes go out in bulk.
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
    state = {
        o.spec.task_id: step_status(
            o, rows.get(o.spec.task_id, {}), task_values.get(o.spec.task_id, {})
        )
        for o in ended
    }
    decided_early = _decided_while_running(ended, state, now)
    run_of = {tid: run for tid, run in current.items() if run is not None}
    roots = [
        tid
        for tid in task_ids
        if tid not in run_of and tid in with_children and state[tid] != StepStatus.SKIPPED
    ]
    run_of.update(_start_runs(roots, rows, now))
    if not run_of:
        return 0
    update_rows(
        TaskExecutionLog,
        ("workflow_run_id",),
        [[o.spec.log_id, run_of[o.spec.task_id]] for o in ended if o.spec.task_id in run_of],
    )
    # A step keeps its run until it ends (retries and approval waits log into the same run).
    keep = {tid: None if state[tid] in FINAL_STEP_STATUSES else run for tid, run in run_of.items()}
    update_rows(
        ScheduledTask,
        ("workflow_run_id",),
        [[tid, run] for tid, run in keep.items() if current.get(tid) != run],
    )
    graph = _Graph.load(sorted(set(run_of.values())), now)
    for tid, run in run_of.items():
        graph.set(run, tid, state[tid])
    for tid, run in run_of.items():
        if state[tid] in FINAL_STEP_STATUSES:
            graph.propagate(run, tid)
    made_due = graph.write()
    if made_due or decided_early:
        wake.notify()
    return made_due


def _decided_while_running(ended: list[Outcome], state: dict[int, str], now: dt.datetime) -> int:
    """Approval steps whose request was decided before this run of theirs was recorded.

    A decision made while the step that asked is still running cannot make it due
    (``services.approvals.wake_step`` wakes pending steps only), and recording the
    run then plans its next check for the escalation time. So the recording looks:
    a step left waiting whose request is already decided is due again at once, in a
    new slot after the one just recorded. ``wake_step`` locks the step's row, so a
    decision is either seen here or finds the step pending. One query, and one
    update per step found.
    """
    waiting = {o.spec.task_id: o.spec.scheduled_for for o in ended}
    waiting = {tid: slot for tid, slot in waiting.items() if state[tid] == StepStatus.WAITING}
    if not waiting:
        return 0
    decided = set(
        Approval.objects.filter(task_id__in=waiting, step_ended=False)
        .exclude(status=ApprovalStatus.PENDING)
        .values_list("task_id", flat=True)
    )
    for tid in decided:
        slot = max(now, waiting[tid] + dt.timedelta(milliseconds=1))
        ScheduledTask.objects.filter(pk=tid, status=TaskStatus.PENDING).update(
            next_run=now, occurrence_at=slot
        )
    return len(decided)


def _start_runs(roots: list[int], rows: dict[int, dict], now: dt.datetime) -> dict[int, int]:
    """A new run for each root, with a planned step for every task reachable from it."""
    if not roots:
        return {}
    runs = WorkflowRun.objects.bulk_create(
        [
            WorkflowRun(
                root_id=tid, root_name=str(rows.get(tid, {}).get("name", ""))[:200], started_at=now
            )
            for tid in roots
        ]
    )
    reached = {tid: {tid} for tid in roots}
    frontier = {tid: [tid] for tid in roots}
    # One query per level of the graph, for all new runs together.
    while any(frontier.values()):
        sources = sorted({t for level in frontier.values() for t in level})
        children: dict[int, set[int]] = defaultdict(set)
        for source, target in WorkflowEdge.objects.from_tasks(sources).values_list(
            "source_id", "target_id"
        ):
            children[source].add(target)
        for root in roots:
            found = {c for t in frontier[root] for c in children[t]} - reached[root]
            if len(reached[root]) + len(found) > MAX_STEPS:
                found = set(sorted(found)[: MAX_STEPS - len(reached[root])])
            reached[root] |= found
            frontier[root] = sorted(found)
    WorkflowStep.objects.bulk_create(
        [
            WorkflowStep(
                run=run,
                task_id=tid,
                status=StepStatus.QUEUED if tid == root else StepStatus.PLANNED,
                updated_at=now,
            )
            for root, run in zip(roots, runs, strict=True)
            for tid in sorted(reached[root])
        ]
    )
    return {root: run.pk for root, run in zip(roots, runs, strict=True)}


class _Graph:
    """The touched runs' steps and the edges between their tasks, decided in memory."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.steps: dict[tuple[int, int], str] = {}
        self.step_pks: dict[tuple[int, int], int] = {}
        self.changed: dict[tuple[int, int], str] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.parents: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.tasks: dict[int, Any] = {}
        self.to_start: dict[int, int] = {}
        self.runs: list[int] = []

    @classmethod
    def load(cls, runs: list[int], now: dt.datetime) -> _Graph:
        graph = cls(now)
        graph.runs = runs
        # Fan-in decisions read the steps of the run: lock the runs (PostgreSQL) so two
        # parents ending in two passes at once cannot both miss each other.
        list(WorkflowRun.objects.select_for_update().filter(pk__in=runs).order_by("pk"))
        for pk, run, task, status in WorkflowStep.objects.filter(run_id__in=runs).values_list(
            "pk", "run_id", "task_id", "status"
        ):
            graph.steps[(run, task)] = status
            graph.step_pks[(run, task)] = pk
        in_runs = sorted({task for _, task in graph.steps})
        for source, target, condition in WorkflowEdge.objects.from_tasks(in_runs).values_list(
            "source_id", "target_id", "condition"
        ):
            graph.children[source].append(target)
            graph.parents[target].append((source, condition))
        targets = sorted({t for kids in graph.children.values() for t in kids})
        graph.tasks = {
            row["pk"]: row
            for row in ScheduledTask.objects.filter(pk__in=targets).values(
                "pk", "status", "enabled", "next_run", "workflow_run_id"
            )
        }
        return graph

    def set(self, run: int, task: int, status: str) -> None:
        self.steps[(run, task)] = status
        self.changed[(run, task)] = status

    def propagate(self, run: int, ended: int) -> None:
        """Decide every child ``ended`` may unblock in ``run``, and theirs when skipped."""
        todo = [ended]
        while todo:
            task = todo.pop(0)
            for child in sorted(set(self.children[task])):
                if self.steps.get((run, child), StepStatus.PLANNED) != StepStatus.PLANNED:
                    continue  # decided in this run already
                verdict = self._join(run, child)
                if verdict is None:
                    continue  # another parent has not ended yet
                if verdict and self._runnable(child, run):
                    self.set(run, child, StepStatus.QUEUED)
                    self.to_start[child] = run
                    self.tasks[child]["workflow_run_id"] = run  # a second run this pass waits
                else:
                    self.set(run, child, StepStatus.SKIPPED)
                    todo.append(child)

    def _join(self, run: int, task: int) -> bool | None:
        # Parents outside this run (not reachable from its root) do not hold the join.
        involved = [(s, c) for s, c in self.parents[task] if (run, s) in self.steps]
        if any(self.steps[(run, s)] not in FINAL_STEP_STATUSES for s, _ in involved):
            return None
        return all(self.steps[(run, s)] in HOLDS[c] for s, c in involved)

    def _runnable(self, task: int, run: int) -> bool:
        row = self.tasks.get(task)
        if row is None or not row["enabled"]:
            return False
        # A step still open in another run (queued for a retry, waiting for a person) stays
        # there: this run skips it rather than take it over and leave the other run open.
        if row["workflow_run_id"] not in (None, run):
            return False
        return row["status"] in (TaskStatus.PENDING, TaskStatus.SUCCESS, TaskStatus.FAILED)

    def write(self) -> int:
        """Start the queued steps, store every changed step, close finished runs."""
        made_due = self._start()
        now = self.now
        update_rows(
            WorkflowStep,
            ("status", "updated_at"),
            [
                [self.step_pks[key], status, now]
                for key, status in self.changed.items()
                if key in self.step_pks
            ],
        )
        WorkflowStep.objects.bulk_create(
            [
                WorkflowStep(run_id=run, task_id=task, status=status, updated_at=now)
                for (run, task), status in self.changed.items()
                if (run, task) not in self.step_pks
            ]
        )
        ended: dict[str, list[int]] = defaultdict(list)
        for run in self.runs:
            states = {s for (r, _), s in self.steps.items() if r == run}
            if states and not states - FINAL_STEP_STATUSES:
                failed = StepStatus.FAILED in states
                ended[WorkflowRunStatus.FAILED if failed else WorkflowRunStatus.SUCCESS].append(run)
        for outcome, runs in ended.items():
            WorkflowRun.objects.filter(pk__in=runs, finished_at__isnull=True).update(
                status=outcome, finished_at=now
            )
        return made_due

    def _start(self) -> int:
        """Make the queued steps due now, each in its run; return how many were."""
        now = self.now
        by_run: dict[int, list[int]] = defaultdict(list)
        for task, run in self.to_start.items():
            by_run[run].append(task)
        moved = 0
        for run, tasks in by_run.items():
            values = {"next_run": now, "occurrence_at": now, "workflow_run_id": run}
            # Never a task another run holds (it may have been claimed since the graph was read).
            ready = ScheduledTask.objects.filter(pk__in=tasks, enabled=True).filter(
                Q(workflow_run__isnull=True) | Q(workflow_run=run)
            )
            # A pending task runs now (a slot already due keeps its place); a finished
            # one-time step runs again for every run of its workflow.
            moved += (
                ready.filter(status=TaskStatus.PENDING)
                .filter(Q(next_run__isnull=True) | Q(next_run__gt=now))
                .update(**values)
            )
            moved += ready.filter(status=TaskStatus.PENDING, next_run__lte=now).update(
                workflow_run_id=run
            )
            for finished in (TaskStatus.SUCCESS, TaskStatus.FAILED):
                if any(self.tasks[t]["status"] == finished for t in tasks):
                    moved += lifecycle.move(
                        ready, finished, TaskStatus.PENDING, retry_count=0, **values
                    )
        return moved

"""Workflow graphs through the engine: fan-out, fan-in, success/failure/always edges, runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import (
    Approval,
    StepStatus,
    TaskAuditEvent,
    TaskExecutionLog,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
)
from scheduler_app.services import workflows
from tests.testapp.models import Execution

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def owner(make_user):
    return make_user(*PERMS, username="owner")


@pytest.fixture
def step(make_task, owner):
    """An event task of ``owner`` that only runs when a workflow edge starts it."""

    def factory(name: str, task_type: str = "record", **kwargs):
        kwargs.setdefault("config", {"note": name} if task_type == "record" else {})
        kwargs.setdefault("max_retries", 0)
        return make_task(
            task_type,
            user=owner,
            name=name,
            schedule_type="event",
            event="never",
            cron=None,
            **kwargs,
        )

    return factory


def ran(*tasks) -> list[str]:
    ids = [t.pk for t in tasks]
    return sorted(Execution.objects.filter(task_id__in=ids).values_list("note", flat=True))


def drain(passes: int = 6) -> None:
    for _ in range(passes):
        run_pass(PassOptions())


def due_root(task) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    type(task).objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)


@pytest.mark.django_db(transaction=True)
def test_fan_out_on_success_and_fan_in_waits_for_every_parent(step, owner):
    root, left, right, join = step("root"), step("left"), step("right"), step("join")
    for parent, child in ((root, left), (root, right), (left, join), (right, join)):
        services.add_edge(parent, child, user=owner)
    due_root(root)

    run_pass(PassOptions())  # root runs; left and right become due
    assert ran(root, left, right, join) == ["root"]
    run_pass(PassOptions())  # left and right run; only then the join is due
    assert ran(left, right, join) == ["left", "right"]
    run_pass(PassOptions())
    assert ran(join) == ["join"]

    run = WorkflowRun.objects.get()
    assert run.root_id == root.pk and run.status == "success" and run.finished_at
    logs = TaskExecutionLog.objects.filter(task__in=[root, left, right, join])
    assert logs.count() == 4 and set(logs.values_list("workflow_run", flat=True)) == {run.pk}
    assert Execution.objects.filter(task_id=join.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_failure_edge_runs_after_a_failure_and_success_edge_is_skipped(step, owner):
    root = step("root", task_type="fail")
    on_fail, on_success, always = step("on_fail"), step("on_success"), step("always")
    services.add_edge(root, on_fail, user=owner, condition="failure")
    services.add_edge(root, on_success, user=owner, condition="success")
    services.add_edge(root, always, user=owner, condition="always")
    after_skipped = step("after_skipped")
    services.add_edge(on_success, after_skipped, user=owner, condition="always")
    due_root(root)

    drain()

    assert ran(on_fail, on_success, always, after_skipped) == ["always", "on_fail"]
    run = WorkflowRun.objects.get()
    steps = dict(WorkflowStep.objects.filter(run=run).values_list("task_id", "status"))
    assert steps == {
        root.pk: StepStatus.FAILED,
        on_fail.pk: StepStatus.SUCCESS,
        on_success.pk: StepStatus.SKIPPED,
        always.pk: StepStatus.SUCCESS,
        after_skipped.pk: StepStatus.SKIPPED,  # a skipped step starts nothing
    }
    assert run.status == "failed" and run.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_join_is_skipped_when_one_parent_failed(step, owner):
    root, good, bad, join = step("root"), step("good"), step("bad", task_type="fail"), step("join")
    for parent, child in ((root, good), (root, bad), (good, join), (bad, join)):
        services.add_edge(parent, child, user=owner)
    due_root(root)

    drain()

    assert ran(join) == []
    run = WorkflowRun.objects.get()
    assert WorkflowStep.objects.get(run=run, task=join).status == StepStatus.SKIPPED


@pytest.mark.django_db(transaction=True)
def test_a_retried_step_keeps_its_run_and_ends_it_only_when_retries_are_spent(step, owner):
    root = step("root")
    flaky = step("flaky", task_type="fail", max_retries=1)
    cleanup = step("cleanup")
    services.add_edge(root, flaky, user=owner)
    services.add_edge(flaky, cleanup, user=owner, condition="failure")
    due_root(root)
    run_pass(PassOptions())
    run_pass(PassOptions())  # flaky fails once; a retry is due later
    assert ran(cleanup) == []
    run = WorkflowRun.objects.get()
    assert WorkflowStep.objects.get(run=run, task=flaky).status == StepStatus.QUEUED
    flaky.refresh_from_db()
    assert flaky.workflow_run_id == run.pk
    run_pass(PassOptions(now=timezone.now() + dt.timedelta(hours=2)))  # the retry
    drain(3)
    assert ran(cleanup) == ["cleanup"]
    logs = TaskExecutionLog.objects.filter(task=flaky)
    assert logs.count() == 2 and set(logs.values_list("workflow_run", flat=True)) == {run.pk}


@pytest.mark.django_db
def test_a_cycle_is_refused_naming_its_steps_and_nothing_changes(step, owner):
    a, b, c = step("A"), step("B"), step("C")
    services.add_edge(a, b, user=owner)
    services.add_edge(b, c, user=owner, condition="always")
    with pytest.raises(ValidationError) as caught:
        services.add_edge(c, a, user=owner, condition="failure")
    [error] = caught.value.error_dict["target"]
    assert error.code == "chain_cycle" and "“C” → “A” → “B” → “C”" in error.message
    assert WorkflowEdge.objects.count() == 2
    with pytest.raises(ValidationError):
        services.add_edge(a, a, user=owner)


@pytest.mark.django_db
def test_a_second_edge_between_the_same_steps_is_refused_when_added_or_re_pointed(step, owner):
    a, b, c = step("A"), step("B"), step("C")
    services.add_edge(a, b, user=owner)
    edge = services.add_edge(a, c, user=owner)
    with pytest.raises(ValidationError) as caught:
        services.add_edge(a, b, user=owner, condition="failure")
    [error] = caught.value.error_dict["target"]
    assert error.code == "duplicate_edge" and "change that edge instead" in error.message
    with pytest.raises(ValidationError) as caught:
        services.change_edge(edge, user=owner, target=b)
    [error] = caught.value.error_dict["target"]
    assert error.code == "duplicate_edge" and error.message == "“A” already starts “B”."
    edge.refresh_from_db()
    assert edge.target_id == c.pk and WorkflowEdge.objects.count() == 2


@pytest.mark.django_db
def test_an_edge_to_a_task_the_user_may_not_view_reads_as_unknown(
    step, owner, make_user, make_task
):
    stranger = make_user(*PERMS, username="stranger")
    theirs = make_task("record", user=stranger, schedule_type="event", event="x", cron=None)
    limited = make_user("scheduler_app.SA_SCHEDULER", username="limited")
    own = make_task("record", schedule_type="event", event="x", cron=None)
    type(own).objects.filter(pk=own.pk).update(owner=limited)
    with pytest.raises(ValidationError) as caught:
        services.add_edge(own, theirs, user=limited)
    assert caught.value.error_dict["target"][0].code == "unknown_task"
    # The owner sees every task of the module (its base permission) but may not run theirs.
    with pytest.raises(PermissionDenied):
        services.add_edge(step("mine"), theirs, user=owner)
    assert not WorkflowEdge.objects.exists()


@pytest.mark.django_db
def test_edges_are_changed_repointed_and_removed_with_audit(step, owner):
    a, b, c = step("A"), step("B"), step("C")
    edge = services.add_edge(a, b, user=owner)
    services.change_edge(edge, user=owner, target=c, condition="always")
    edge.refresh_from_db()
    assert (edge.target_id, edge.condition) == (c.pk, "always")
    with pytest.raises(ValidationError) as caught:
        services.change_edge(edge, user=owner, condition="sometimes")
    assert "condition" in caught.value.error_dict
    services.remove_edge(edge, user=owner)
    assert not WorkflowEdge.objects.exists()
    events = TaskAuditEvent.objects.for_task(a).order_by("pk")
    changes = [e.changes["edges"] for e in events if "edges" in e.changes]
    assert changes == [
        [None, f"success → {b.pk}"],
        [f"success → {b.pk}", f"always → {c.pk}"],
        [f"always → {c.pk}", None],
    ]


@pytest.mark.django_db
def test_workflow_of_gathers_the_graph_both_ways(step, owner):
    a, b, c, lone = step("A"), step("B"), step("C"), step("lone")
    services.add_edge(a, b, user=owner)
    services.add_edge(c, b, user=owner, condition="failure")
    graph = workflows.workflow_of(b, user=owner)
    assert [t.name for t in graph.tasks] == ["A", "B", "C"]
    assert len(graph.edges) == 2 and lone not in graph.tasks


@pytest.mark.django_db(transaction=True)
def test_fanning_out_takes_the_same_queries_for_3_or_12_children(step, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (3, 12):
        root = step(f"root{n}", task_type="noop")
        for i in range(n):
            services.add_edge(root, step(f"child{n}-{i}", task_type="noop"), user=owner)
        due_root(root)
        with CaptureQueriesContext(connection) as queries:
            run_pass(PassOptions())
        counts.append(len(queries))
        assert WorkflowStep.objects.filter(run__root=root, status=StepStatus.QUEUED).count() == n
        drain(2)
    assert counts[0] == counts[1]


@pytest.mark.django_db(transaction=True)
def test_a_step_waiting_in_one_run_is_skipped_by_a_second_run_not_taken_over(make_task):
    def system_step(name: str, task_type: str = "record", module: str = "testmod", **config):
        return make_task(
            task_type,
            module=module,
            name=name,
            schedule_type="event",
            event="never",
            cron=None,
            max_retries=0,
            config=config or {"note": name},
        )

    first, second = system_step("first"), system_step("second")
    review = system_step(
        "review", "approval", module="workflow", title="Go?", permission="SA_TESTMOD_ADMIN"
    )
    after = system_step("after")
    for parent, child in ((first, review), (second, review), (review, after)):
        services.add_edge(parent, child, user=None)

    due_root(first)
    drain(3)  # first runs; the review opens its request and waits in the first run
    first_run = WorkflowRun.objects.get(root=first)
    assert WorkflowStep.objects.get(run=first_run, task=review).status == StepStatus.WAITING

    due_root(second)
    drain(3)  # second ends: the review is busy in the first run, so this run skips it

    second_run = WorkflowRun.objects.get(root=second)
    assert dict(WorkflowStep.objects.filter(run=second_run).values_list("task_id", "status")) == {
        second.pk: StepStatus.SUCCESS,
        review.pk: StepStatus.SKIPPED,
        after.pk: StepStatus.SKIPPED,
    }
    assert second_run.status == "success" and second_run.finished_at is not None
    review.refresh_from_db()
    assert review.workflow_run_id == first_run.pk
    assert WorkflowStep.objects.get(run=first_run, task=review).status == StepStatus.WAITING

    # Approved, the review ends in the run it waited in, which then runs "after".
    approval = Approval.objects.get(task=review)
    assert approval.workflow_run_id == first_run.pk
    services.approve(approval, user=None)
    drain(3)
    first_run.refresh_from_db()
    assert first_run.status == "success"
    assert dict(WorkflowStep.objects.filter(run=first_run).values_list("task_id", "status")) == {
        first.pk: StepStatus.SUCCESS,
        review.pk: StepStatus.SUCCESS,
        after.pk: StepStatus.SUCCESS,
    }
    assert ran(after) == ["after"]
    assert set(
        TaskExecutionLog.objects.filter(task__in=[review, after]).values_list(
            "workflow_run", flat=True
        )
    ) == {first_run.pk}

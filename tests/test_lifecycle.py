"""One lifecycle: every writer of a task's status goes through models/lifecycle.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.exceptions import InvalidTransition
from scheduler_app.models import ScheduledTask, TaskStatus, lifecycle

PACKAGE = Path(__file__).resolve().parent.parent / "scheduler_app"
#: The only places that may name a task status as a value to write.
GATEKEEPERS = {PACKAGE / "models" / "lifecycle.py"}
WRITES = {"update", "create", "bulk_create", "update_or_create", "get_or_create"}


def _is_lifecycle_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "lifecycle"
    )


def _names_task_status(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "TaskStatus" for n in ast.walk(node))


def status_writes(path: Path) -> list[str]:
    """Lines of ``path`` that write a task status without asking the lifecycle."""
    found = []
    tree = ast.parse(path.read_text(), filename=str(path))
    # A ``guard={...}`` is the WHERE of a compare-and-set (a read), not a write.
    guards = {
        id(kw.value)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        for kw in call.keywords
        if kw.arg == "guard"
    }
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    # Only services.steps.transition assigns, right after check_transition.
                    if path != PACKAGE / "services" / "steps.py":
                        found.append(where)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in WRITES:
                for kw in node.keywords:
                    if (
                        kw.arg == "status"
                        and _names_task_status(kw.value)
                        and not _is_lifecycle_call(kw.value)
                    ):
                        found.append(where)
        elif isinstance(node, ast.Dict) and id(node) not in guards:
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "status"
                    and _names_task_status(value)
                    and not _is_lifecycle_call(value)
                ):
                    found.append(where)
    return found


def test_every_status_writer_goes_through_the_lifecycle():
    offenders = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts and path not in GATEKEEPERS
        for line in status_writes(path)
    ]
    assert offenders == []


def test_the_scan_finds_a_direct_write(tmp_path):
    # The scan itself must be able to fail: a write that bypasses the table is found.
    bad = tmp_path / "probe.py"
    bad.write_text(
        "from scheduler_app.models import ScheduledTask, TaskStatus\n"
        "ScheduledTask.objects.filter(pk=1).update(status=TaskStatus.RUNNING)\n"
        "row = {'status': TaskStatus.PAUSED}\n"
        "task.status = TaskStatus.FAILED\n"
        "ok = ScheduledTask.objects.filter(status=TaskStatus.PENDING)\n"
    )
    assert sorted(status_writes(bad)) == ["probe.py:2", "probe.py:3", "probe.py:4"]


STATUSES = [s.value for s in TaskStatus]


def in_status(task: ScheduledTask, status: str) -> ScheduledTask:
    """Put a fixture task straight into ``status`` (test set-up, not a transition)."""
    ScheduledTask.objects.filter(pk=task.pk).update(status=status)
    task.refresh_from_db()
    return task


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES))
def test_check_transition_follows_the_table(current, target):
    allowed = current == target or target in lifecycle.TRANSITIONS.get(current, frozenset())
    if allowed:
        lifecycle.check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition, match=f"A {current} task cannot become {target}"):
            lifecycle.check_transition(current, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [(TaskStatus.CANCELLED, TaskStatus.RUNNING), (TaskStatus.PAUSED, TaskStatus.SUCCESS)],
)
@pytest.mark.django_db
def test_a_refused_bulk_move_touches_no_row(make_task, source, target):
    task = in_status(make_task(), source)
    with pytest.raises(InvalidTransition):
        lifecycle.move(ScheduledTask.objects.all(), source, target)
    task.refresh_from_db()
    assert task.status == source


@pytest.mark.django_db
def test_a_bulk_move_changes_only_rows_still_in_the_source(make_task):
    pending = make_task()
    paused = in_status(make_task(), TaskStatus.PAUSED)
    moved = lifecycle.move(ScheduledTask.objects.all(), TaskStatus.PENDING, TaskStatus.RUNNING)
    assert moved == 1
    pending.refresh_from_db()
    paused.refresh_from_db()
    assert (pending.status, paused.status) == (TaskStatus.RUNNING, TaskStatus.PAUSED)


def test_a_run_cannot_settle_into_an_impossible_status():
    assert lifecycle.after_run(TaskStatus.PENDING) == TaskStatus.PENDING
    for target in STATUSES:
        if target != TaskStatus.RUNNING and target not in lifecycle.TRANSITIONS[TaskStatus.RUNNING]:
            with pytest.raises(InvalidTransition):
                lifecycle.after_run(target)


@pytest.mark.django_db
def test_a_service_refuses_a_transition_the_table_does_not_allow(make_task):
    task = in_status(make_task(), TaskStatus.CANCELLED)
    with pytest.raises(ValidationError) as caught:
        services.pause(task, user=None)
    assert "status" in caught.value.message_dict
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED

"""Workflow edges in export files: exported, compared, imported after every task, refused clearly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from scheduler_app import services
from scheduler_app.models import ScheduledTask, WorkflowEdge
from scheduler_app.services import transfer


@pytest.fixture
def graph(make_task):
    def step(name):
        return make_task(name=name, schedule_type="event", event="never", cron=None)

    a, b, c = step("A"), step("B"), step("C")
    services.add_edge(a, b, user=None)
    services.add_edge(b, c, user=None, condition="failure")
    services.add_edge(a, c, user=None, condition="always")
    return a, b, c


def edges() -> set[tuple[str, str, str]]:
    return set(WorkflowEdge.objects.values_list("source__name", "target__name", "condition"))


@pytest.mark.django_db
def test_edges_round_trip_into_an_empty_environment(graph):
    data = transfer.export_schedules(user=None)
    a_entry = next(t for t in data["tasks"] if t["name"] == "A")
    assert a_entry["edges"] == [
        {"module": "testmod", "task_type": "record", "name": "B", "when": "success"},
        {"module": "testmod", "task_type": "record", "name": "C", "when": "always"},
    ]
    before = edges()
    ScheduledTask.objects.all().delete()
    report = transfer.import_schedules(data, user=None)
    assert report.applied and edges() == before


@pytest.mark.django_db
def test_an_import_sets_the_edges_exactly_and_the_dry_run_shows_them(graph):
    a, b, c = graph
    data = transfer.export_schedules(user=None)
    a_entry = next(t for t in data["tasks"] if t["name"] == "A")
    a_entry["edges"] = [
        {"module": "testmod", "task_type": "record", "name": "C", "when": "failure"}
    ]
    [change] = [ch for ch in transfer.plan(data) if ch.label.endswith("“A”")]
    assert change.action == "update" and "edges" in change.fields
    transfer.import_schedules(data, user=None, dry_run=True)
    assert ("A", "B", "success") in edges()
    transfer.import_schedules(data, user=None)
    assert {e for e in edges() if e[0] == "A"} == {("A", "C", "failure")}


@pytest.mark.django_db
def test_a_cycle_or_an_unknown_target_is_refused_naming_the_entry_and_nothing_changes(graph):
    data = transfer.export_schedules(user=None)
    c_entry = next(t for t in data["tasks"] if t["name"] == "C")
    c_entry["edges"] = [{"module": "testmod", "task_type": "record", "name": "A"}]
    before = edges()
    with pytest.raises(ValidationError) as caught:
        transfer.import_schedules(data, user=None)
    assert "“C”" in str(caught.value) and "cycle" in str(caught.value)
    c_entry["edges"] = [{"module": "testmod", "task_type": "record", "name": "Nope"}]
    with pytest.raises(ValidationError) as caught:
        transfer.import_schedules(data, user=None)
    assert "no task testmod.record “Nope”" in str(caught.value)
    c_entry["edges"] = [{"module": "testmod", "task_type": "record", "name": "A", "when": "x"}]
    with pytest.raises(ValidationError) as caught:
        transfer.import_schedules(data, user=None)
    assert "edges: edge 0: when: choose one of" in str(caught.value)
    assert edges() == before

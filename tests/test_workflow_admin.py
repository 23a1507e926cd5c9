"""The workflow view and editor in the admin, the graph's SVG, and the approvals admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import Approval, ApprovalStatus, WorkflowEdge
from scheduler_app.monitoring import workflow_graph

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def staff(make_user):
    return make_user(*PERMS, username="staff", is_staff=True)


@pytest.fixture
def steps(make_task, staff):
    def factory(*names):
        return [
            make_task(
                "record",
                user=staff,
                name=name,
                schedule_type="event",
                event="never",
                cron=None,
                config={"note": name},
            )
            for name in names
        ]

    return factory


def page(task):
    return reverse("admin:scheduler_app_workflowrun_task", args=[task.pk])


@pytest.mark.django_db
def test_edges_are_added_changed_and_removed_through_the_editor(client, staff, steps):
    a, b, c = steps("A", "B", "C")
    client.force_login(staff)
    response = client.post(
        page(a),
        {"action": "add", "add-source": a.pk, "add-condition": "success", "add-target": b.pk},
    )
    assert response.status_code == 302
    edge = WorkflowEdge.objects.get()
    client.post(
        page(a),
        {
            "action": "change",
            "edge": edge.pk,
            f"edge-{edge.pk}-condition": "failure",
            f"edge-{edge.pk}-target": c.pk,
        },
    )
    edge.refresh_from_db()
    assert (edge.target_id, edge.condition) == (c.pk, "failure")

    shown = client.get(page(a))
    assert shown.status_code == 200
    content = shown.content.decode()
    assert "<svg" in content and 'data-condition="failure"' in content
    assert f'id="sched-step-{c.pk}"' in content
    assert 'src="http' not in content and 'href="http' not in content  # nothing from elsewhere

    client.post(page(a), {"action": "remove", "edge": edge.pk})
    assert not WorkflowEdge.objects.exists()


@pytest.mark.django_db
def test_a_cycle_in_the_editor_is_a_clear_error_and_changes_nothing(client, staff, steps):
    a, b = steps("A", "B")
    services.add_edge(a, b, user=staff)
    client.force_login(staff)
    response = client.post(
        page(b),
        {"action": "add", "add-source": b.pk, "add-condition": "always", "add-target": a.pk},
        follow=True,
    )
    assert "would make a cycle" in response.content.decode()
    assert WorkflowEdge.objects.count() == 1


@pytest.mark.django_db
def test_the_editor_refuses_a_task_the_user_may_not_view(client, make_user, make_task):
    limited = make_user("scheduler_app.SA_SCHEDULER", username="limited", is_staff=True)
    other = make_user(*PERMS, username="other")
    own = make_task("record", schedule_type="event", event="x", cron=None)
    type(own).objects.filter(pk=own.pk).update(owner=limited)
    hidden = make_task("record", user=other, schedule_type="event", event="x", cron=None)
    client.force_login(limited)
    assert client.get(page(hidden)).status_code == 404
    response = client.post(
        page(own),
        {
            "action": "add",
            "add-source": own.pk,
            "add-condition": "success",
            "add-target": hidden.pk,
        },
        follow=True,
    )
    assert f"No such task: {hidden.pk}" in response.content.decode()
    assert not WorkflowEdge.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_graph_colours_steps_by_their_state_in_the_run(client, staff, steps, make_task):
    a, b = steps("A", "B")
    services.add_edge(a, b, user=staff)
    type(a).objects.filter(pk=a.pk).update(next_run=timezone.now() - dt.timedelta(minutes=1))
    run_pass(PassOptions())
    client.force_login(staff)
    content = client.get(page(a)).content.decode()
    assert f'id="sched-step-{a.pk}" data-state="success" data-current="yes"' in content
    assert f'id="sched-step-{b.pk}" data-state="queued" data-current="yes"' in content
    run_pass(PassOptions())
    content = client.get(page(b)).content.decode()
    assert f'id="sched-step-{b.pk}" data-state="success"' in content


@pytest.mark.django_db(transaction=True)
def test_an_approval_is_decided_in_the_admin(client, make_user, make_task):
    approver = make_user("scheduler_app.SA_TESTMOD_ADMIN", username="boss", is_staff=True)
    step = make_task(
        "approval",
        module="workflow",
        config={"title": "Go?", "permission": "SA_TESTMOD_ADMIN"},
        schedule_type="event",
        event="never",
        cron=None,
        due=None,
    )
    type(step).objects.filter(pk=step.pk).update(next_run=timezone.now() - dt.timedelta(minutes=1))
    run_pass(PassOptions())
    approval = Approval.objects.get()
    url = reverse("admin:scheduler_app_approval_change", args=[approval.pk])
    client.force_login(make_user(username="nobody", is_staff=True))
    assert client.get(url).status_code in (302, 404)
    client.force_login(approver)
    assert b"Your decision" in client.get(url).content
    assert client.get(reverse("admin:scheduler_app_approval_changelist")).status_code == 200
    client.post(url, {"decision": "approve", "comment": "fine"})
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED and approval.comment == "fine"


def test_layout_puts_each_step_one_column_after_its_deepest_parent():
    nodes = [workflow_graph.Node(i, f"n{i}", "", "") for i in (1, 2, 3, 4)]
    edges = [
        workflow_graph.Edge(1, 2, "success"),
        workflow_graph.Edge(2, 3, "success"),
        workflow_graph.Edge(1, 3, "always"),
        workflow_graph.Edge(1, 4, "failure"),
    ]
    place = workflow_graph.layout(nodes, edges)
    assert place == {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (1, 1)}
    svg = str(workflow_graph.render(nodes, edges))
    assert svg.startswith("<svg") and svg.count('class="sched-edge"') == 4


@pytest.mark.django_db
def test_the_task_form_edits_the_success_edges_through_the_services(client, make_user):
    from tests.test_admin_save import form_data

    root = make_user(is_staff=True, is_superuser=True, username="root")
    first, then, other = (
        services.schedule(
            user=None,
            module="testmod",
            task_type="record",
            schedule_type="cron",
            cron="0 6 * * *",
            name=name,
        )
        for name in ("first", "then", "other")
    )
    services.add_edge(then, first, user=None, condition="failure")
    client.force_login(root)
    url = reverse("admin:scheduler_app_scheduledtask_change", args=[first.pk])
    assert b"Then run (on success)" in client.get(url).content

    response = client.post(url, {**form_data(first), "on_success": [str(other.pk)]})
    assert response.status_code == 302
    assert list(first.on_success) == [other]

    # A loop through the failure edge then → first is refused on the field; nothing changes.
    response = client.post(url, {**form_data(first), "on_success": [str(then.pk)]})
    assert response.status_code == 200 and "would loop" in response.content.decode()
    assert list(first.on_success) == [other]


@pytest.mark.django_db(transaction=True)
def test_a_steps_log_page_links_to_its_workflow_run(client, staff, steps):
    from scheduler_app.models import TaskExecutionLog, WorkflowRun

    a, b = steps("A", "B")
    services.add_edge(a, b, user=staff)
    type(a).objects.filter(pk=a.pk).update(next_run=timezone.now() - dt.timedelta(minutes=1))
    run_pass(PassOptions())
    run_pass(PassOptions())
    run = WorkflowRun.objects.get()
    log = TaskExecutionLog.objects.get(task=b)
    client.force_login(staff)
    url = reverse("admin:scheduler_app_scheduledtask_log", args=[b.pk, log.pk])
    assert f'data-workflow-run="{run.pk}"' in client.get(url).content.decode()
    graph = client.get(f"{page(b)}?run={run.pk}").content.decode()
    assert f"Run {run.pk}: Succeeded" in graph


@pytest.mark.django_db(transaction=True)
def test_approval_and_run_lists_show_times_in_the_one_format(client, make_user, make_task):
    approver = make_user("scheduler_app.SA_TESTMOD_ADMIN", username="lead", is_staff=True)
    step = make_task(
        "approval",
        module="workflow",
        config={"title": "Go?", "permission": "SA_TESTMOD_ADMIN"},
        schedule_type="event",
        event="never",
        cron=None,
    )
    type(step).objects.filter(pk=step.pk).update(next_run=timezone.now() - dt.timedelta(minutes=1))
    run_pass(PassOptions())
    client.force_login(approver)
    listing = client.get(reverse("admin:scheduler_app_approval_changelist")).content.decode()
    assert "Go?" in listing and " UTC" in listing
    detail = client.get(
        reverse("admin:scheduler_app_approval_change", args=[Approval.objects.get().pk])
    ).content.decode()
    assert "holders of scheduler_app.SA_TESTMOD_ADMIN" in detail and " UTC" in detail

"""The module pages' workflow section: success/failure/always edges on the scheduling form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scheduler_app.models import (
    AuditAction,
    AuditSource,
    EdgeCondition,
    ScheduledTask,
    TaskAuditEvent,
    WorkflowEdge,
)
from tests.test_views import post_data

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
NEW = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})


@pytest.fixture
def user(make_user):
    return make_user(*PERMS)


@pytest.fixture
def own(make_task, user):
    def factory(name: str) -> ScheduledTask:
        return make_task(user=user, name=name, config={"note": name})

    return factory


def hidden_task(make_task, name: str) -> ScheduledTask:
    """A task of a module the user has no permission on: they may not view it."""
    config = {"title": name, "permission": "SA_TESTMOD_ADMIN"}
    return make_task("approval", module="workflow", name=name, config=config)


def edit_url(task: ScheduledTask) -> str:
    return reverse("scheduler_app:edit", args=[task.pk])


def edit_data(task: ScheduledTask, **edges) -> dict:
    """The edit page's post of ``task`` unchanged, plus the edge lists given."""
    data = post_data(name=task.name, cron=task.cron_expression, timezone=task.timezone)
    data.update({"config-note": task.config.get("note", ""), "enabled": "on"})
    data["edges-shown"] = "True"
    for name, ids in edges.items():
        data[f"edges-{name}"] = [str(pk) for pk in ids]
    return data


def edges_of(task: ScheduledTask) -> dict[int, str]:
    return dict(WorkflowEdge.objects.filter(source=task).values_list("target_id", "condition"))


def test_the_new_page_offers_the_three_lists_among_viewable_tasks(client, user, own, make_task):
    mine = own("Mine")
    hidden = hidden_task(make_task, "Someone else's")
    client.force_login(user)

    html = client.get(NEW).content.decode()

    for name in ("edges-on_success", "edges-on_failure", "edges-always"):
        assert f'name="{name}"' in html
    assert f"Mine (#{mine.pk})" in html
    assert f"#{hidden.pk})" not in html


def test_a_new_task_is_saved_with_its_edges_audited_as_from_a_module_page(client, user, own):
    report, alarm = own("Report"), own("Alarm")
    client.force_login(user)

    data = post_data(**{"edges-shown": "True"})
    data["edges-on_success"] = [str(report.pk)]
    data["edges-on_failure"] = [str(alarm.pk)]
    response = client.post(NEW, data)

    assert response.status_code == 302
    task = ScheduledTask.objects.get(name="From the page")
    assert edges_of(task) == {report.pk: "success", alarm.pk: "failure"}
    events = TaskAuditEvent.objects.filter(task=task, action=AuditAction.EDITED)
    assert sorted(e.changes["edges"][1] for e in events) == [
        f"failure → {alarm.pk}",
        f"success → {report.pk}",
    ]
    assert {e.source for e in events} == {AuditSource.PAGE}


def test_the_edit_page_shows_stored_edges_and_changes_only_the_difference(client, user, own):
    task, a, b, c = own("Task"), own("A"), own("B"), own("C")
    WorkflowEdge.objects.create(source=task, target=a, condition=EdgeCondition.SUCCESS)
    WorkflowEdge.objects.create(source=task, target=b, condition=EdgeCondition.SUCCESS)
    kept = WorkflowEdge.objects.get(source=task, target=a)
    client.force_login(user)

    html = client.get(edit_url(task)).content.decode()
    assert f'<option value="{a.pk}" selected>' in html

    # a stays, b moves to "always", c is added on failure.
    response = client.post(
        edit_url(task), edit_data(task, on_success=[a.pk], always=[b.pk], on_failure=[c.pk])
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert edges_of(task) == {a.pk: "success", b.pk: "always", c.pk: "failure"}
    assert WorkflowEdge.objects.get(source=task, target=a).pk == kept.pk  # untouched
    changes = {
        tuple(e.changes["edges"])
        for e in TaskAuditEvent.objects.filter(task=task)
        if "edges" in e.changes
    }
    assert changes == {(None, f"failure → {c.pk}"), (f"success → {b.pk}", f"always → {b.pk}")}

    response = client.post(edit_url(task), edit_data(task, on_success=[a.pk]))
    assert response.status_code == 302
    assert edges_of(task) == {a.pk: "success"}


def test_a_cycle_is_refused_on_its_list_naming_the_loop_and_nothing_is_saved(client, user, own):
    first, second = own("First"), own("Second")
    WorkflowEdge.objects.create(source=first, target=second, condition=EdgeCondition.ALWAYS)
    client.force_login(user)

    data = edit_data(second, on_failure=[first.pk])
    data["name"] = "Second, renamed"
    response = client.post(edit_url(second), data)

    assert response.status_code == 400
    errors = response.context["form"].edges.errors
    assert list(errors) == ["on_failure"]
    assert "cycle" in errors["on_failure"][0]
    # The loop is named as the task would have been saved (the rename is in the same post).
    assert "“Second, renamed” → “First” → “Second, renamed”" in errors["on_failure"][0]
    second.refresh_from_db()
    assert second.name == "Second" and edges_of(second) == {}  # the rename was undone too


def test_a_task_the_user_may_not_view_is_refused_as_unknown(client, user, make_task):
    hidden = hidden_task(make_task, "Payroll")
    client.force_login(user)

    data = post_data(**{"edges-shown": "True"})
    data["edges-always"] = [str(hidden.pk)]
    response = client.post(NEW, data)

    assert response.status_code == 400
    assert response.context["form"].edges.errors["always"] == [f"No such task: {hidden.pk}."]
    assert not ScheduledTask.objects.filter(name="From the page").exists()
    assert "Payroll" not in response.content.decode()


def test_a_task_in_two_lists_and_a_non_number_are_refused(client, user, own):
    other = own("Other")
    client.force_login(user)

    data = post_data(**{"edges-shown": "True"})
    data["edges-on_success"] = [str(other.pk)]
    data["edges-always"] = [str(other.pk)]
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert "already in" in response.context["form"].edges.errors["always"][0]

    data = post_data(**{"edges-shown": "True", "edges-on_failure": "x"})
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert response.context["form"].edges.errors["on_failure"] == ["“x” is not a task id."]
    assert not ScheduledTask.objects.filter(name="From the page").exists()


def test_a_list_is_bounded(client, user):
    client.force_login(user)
    data = post_data(**{"edges-shown": "True"})
    data["edges-on_success"] = [str(n) for n in range(1, 102)]
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert response.context["form"].edges.errors["on_success"] == ["Choose at most 100 tasks."]


def test_a_post_without_the_lists_leaves_the_edges_alone(client, user, own):
    task, then = own("Task"), own("Then")
    WorkflowEdge.objects.create(source=task, target=then, condition=EdgeCondition.FAILURE)
    client.force_login(user)

    data = edit_data(task)
    del data["edges-shown"]
    data["name"] = "Renamed"
    response = client.post(edit_url(task), data)

    assert response.status_code == 302
    assert edges_of(task) == {then.pk: "failure"}


def test_edges_to_tasks_the_user_may_not_view_are_kept(client, user, own, make_task):
    task, seen = own("Task"), own("Seen")
    hidden = hidden_task(make_task, "Hidden")
    WorkflowEdge.objects.create(source=task, target=hidden, condition=EdgeCondition.SUCCESS)
    WorkflowEdge.objects.create(source=task, target=seen, condition=EdgeCondition.SUCCESS)
    client.force_login(user)

    html = client.get(edit_url(task)).content.decode()
    assert "Hidden" not in html

    response = client.post(edit_url(task), edit_data(task))  # every visible list emptied
    assert response.status_code == 302
    assert edges_of(task) == {hidden.pk: "success"}


def test_the_lists_offer_only_tasks_the_user_may_run(client, user, own, make_user, make_task):
    # A task seen through the module permission (a colleague's) or a system task is viewable
    # but not runnable by this user: offering it would only lead to a refusal.
    mine = own("Mine")
    colleague = make_user(*PERMS)
    theirs = make_task(user=colleague, name="Colleague's")
    client.force_login(user)

    html = client.get(NEW).content.decode()

    assert f"Mine (#{mine.pk})" in html
    assert f"#{theirs.pk})" not in html


def test_a_target_the_user_may_view_but_not_run_is_refused_on_its_list(
    client, user, make_user, make_task
):
    colleague = make_user(*PERMS)
    theirs = make_task(user=colleague, name="Colleague's")  # viewable by module permission
    client.force_login(user)

    data = post_data(**{"edges-shown": "True"})
    data["edges-on_success"] = [str(theirs.pk)]
    response = client.post(NEW, data)

    assert response.status_code == 400
    assert "You may not run “Colleague's”" in response.context["form"].edges.errors["on_success"][0]
    assert not ScheduledTask.objects.filter(name="From the page").exists()

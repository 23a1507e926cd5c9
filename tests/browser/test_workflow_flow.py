"""End to end: build a three-step workflow in the admin (draft → approval → publish), run it,
approve its approval step in the admin, and see the graph turn green."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import Approval, TaskExecutionLog, WorkflowEdge, WorkflowRun
from tests.conftest import grant

GREEN = "#3c9a5f"
AMBER = "#d9a521"


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def steps(transactional_db, django_user_model):
    editor = django_user_model.objects.create_user(
        "editor", password="pw", is_staff=True, email="editor@example.com"
    )
    grant(
        editor,
        "scheduler_app.SA_SCHEDULER",
        "scheduler_app.SA_TESTMOD",
        "scheduler_app.SA_WORKFLOW",
        "scheduler_app.SA_TESTMOD_ADMIN",
    )
    editor = django_user_model.objects.get(pk=editor.pk)

    def step(name: str, module: str = "testmod", task_type: str = "record", **config):
        return services.schedule(
            user=editor,
            module=module,
            task_type=task_type,
            name=name,
            config=config or {"note": name},
            schedule_type="event",
            event="never",
            max_retries=0,
        )

    draft = step("Draft newsletter")
    review = step(
        "Review",
        module="workflow",
        task_type="approval",
        title="Send the newsletter?",
        permission="SA_TESTMOD_ADMIN",
    )
    publish = step("Publish newsletter")
    return editor, draft, review, publish


def passes(count: int = 2) -> None:
    for _ in range(count):
        run_pass(PassOptions())


def node(page, task):
    return page.locator(f"#sched-step-{task.pk}")


def test_build_a_workflow_approve_its_step_and_see_it_turn_green(
    page, live_server, login, screenshot, steps
):
    editor, draft, review, publish = steps
    page.set_viewport_size({"width": 1280, "height": 800})
    base = live_server.url
    login("editor")

    # 1. From the task's admin page to its workflow, which has no edges yet.
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/{draft.pk}/change/")
    page.get_by_role("link", name="Workflow", exact=True).click()
    expect(page.locator("#workflow-edges")).to_contain_text("No edges yet")

    # 2. Build the graph through the editor's form: draft → review → publish.
    for source, target in ((draft, review), (review, publish)):
        page.select_option("#id_add-source", str(source.pk))
        page.select_option("#id_add-condition", "success")
        page.select_option("#id_add-target", str(target.pk))
        page.get_by_role("button", name="Add edge").click()
        expect(page.locator(".messagelist")).to_contain_text("The edge was added.")
    # A cycle is refused with the steps along it, and nothing changes.
    page.select_option("#id_add-source", str(publish.pk))
    page.select_option("#id_add-condition", "always")
    page.select_option("#id_add-target", str(draft.pk))
    page.get_by_role("button", name="Add edge").click()
    expect(page.locator(".messagelist")).to_contain_text("would make a cycle")
    assert WorkflowEdge.objects.count() == 2
    expect(page.locator("svg.sched-workflow .sched-edge")).to_have_count(2)
    screenshot("workflow-01-built")

    # 3. The draft runs; the review opens its request and waits (amber).
    type(draft).objects.filter(pk=draft.pk).update(
        next_run=timezone.now() - dt.timedelta(seconds=5)
    )
    passes()
    page.reload()
    expect(node(page, draft)).to_have_attribute("data-state", "success")
    expect(node(page, review)).to_have_attribute("data-state", "waiting")
    assert node(page, review).locator("rect").get_attribute("fill") == AMBER
    screenshot("workflow-02-waiting-for-approval")

    # 4. Approve in the admin, with a comment.
    page.get_by_role("link", name="Send the newsletter?").click()
    page.fill("#id_decision_comment", "Looks good")
    screenshot("workflow-03-approval-form")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist")).to_contain_text("Approved")
    approval = Approval.objects.get()
    assert (approval.status, approval.decided_by, approval.comment) == (
        "approved",
        editor,
        "Looks good",
    )

    # 5. The next passes finish the run; every step is green, the run highlighted.
    passes()
    page.get_by_role("link", name="Workflow", exact=True).click()
    for task in (draft, review, publish):
        expect(node(page, task)).to_have_attribute("data-state", "success")
        expect(node(page, task)).to_have_attribute("data-current", "yes")
        assert node(page, task).locator("rect").get_attribute("fill") == GREEN
    run = WorkflowRun.objects.get()
    assert run.status == "success"
    assert set(
        TaskExecutionLog.objects.filter(task__in=[draft, review, publish]).values_list(
            "workflow_run", flat=True
        )
    ) == {run.pk}
    expect(page.locator("#workflow-graph h2")).to_contain_text("Succeeded")
    screenshot("workflow-04-green")

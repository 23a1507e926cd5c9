"""End to end: add a failure edge on a module's scheduling page and find it on the task's
workflow page in the admin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from scheduler_app import services
from scheduler_app.models import AuditSource, TaskAuditEvent, WorkflowEdge
from tests.conftest import grant


@pytest.fixture
def tasks(transactional_db, django_user_model):
    editor = django_user_model.objects.create_user("planner", password="pw", is_staff=True)
    grant(editor, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    editor = django_user_model.objects.get(pk=editor.pk)

    def task(name: str):
        return services.schedule(
            user=editor,
            module="testmod",
            task_type="record",
            name=name,
            config={"note": name},
            schedule_type="cron",
            cron="0 2 * * *",
            timezone="Europe/Berlin",
        )

    return editor, task("Nightly import"), task("Alert the on-call team")


def test_a_failure_edge_added_on_the_module_page_shows_on_the_workflow_page(
    page, live_server, login, screenshot, tasks
):
    _editor, nightly, alert = tasks
    page.set_viewport_size({"width": 1280, "height": 800})
    base = live_server.url
    login("planner")

    # 1. The module page's form of the task has a Workflow section with the three lists.
    page.goto(f"{base}/scheduler/task/{nightly.pk}/edit/")
    section = page.locator("fieldset.sched-edges")
    expect(section.locator("h2")).to_have_text("Workflow")
    expect(section.locator("select")).to_have_count(3)
    # The schedule's preview still works beside it.
    expect(page.locator('[data-preview="runs"] li')).to_have_count(5)

    # 2. Choose the alert on failure and save.
    page.select_option("#id_edges-on_failure", str(alert.pk))
    section.scroll_into_view_if_needed()
    screenshot("form-edges-01-module-form")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved “Nightly import”")
    edge = WorkflowEdge.objects.get()
    assert (edge.source_id, edge.target_id, edge.condition) == (nightly.pk, alert.pk, "failure")
    event = TaskAuditEvent.objects.get(task=nightly, action="edited")
    assert event.source == AuditSource.PAGE and event.changes["edges"][1] == f"failure → {alert.pk}"

    # 3. The task's workflow page in the admin draws the edge and lists it.
    page.goto(f"{base}/admin/scheduler_app/workflowrun/task/{nightly.pk}/")
    expect(page.locator('svg.sched-workflow .sched-edge[data-condition="failure"]')).to_have_count(
        1
    )
    expect(page.locator(f"#sched-step-{alert.pk}")).to_be_visible()
    row = page.locator(f'.sched-edge-row[data-edge="{edge.pk}"]')
    expect(row).to_contain_text("Nightly import")
    screenshot("form-edges-02-workflow-page")

    # 4. Back on the form, the edge is shown as chosen, and removing it there removes it.
    page.goto(f"{base}/scheduler/task/{nightly.pk}/edit/")
    expect(page.locator(f'#id_edges-on_failure option[value="{alert.pk}"]')).to_have_js_property(
        "selected", True
    )
    page.select_option("#id_edges-on_failure", [])
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved")
    assert not WorkflowEdge.objects.exists()

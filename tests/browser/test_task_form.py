"""The task page's form in Chromium: only the chosen schedule type's fields, and every field
still there and working with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from scheduler_app import services
from scheduler_app.models import ScheduledTask
from tests.conftest import grant

SCHEDULE_ROWS = ("cron_expression", "run_at", "interval_every", "interval_unit", "event_name")


@pytest.fixture
def owned_task(transactional_db, django_user_model):
    owner = django_user_model.objects.create_user("owner", password="pw", is_staff=True)
    grant(owner, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    return services.schedule(
        user=owner,
        module="testmod",
        task_type="record",
        config={},
        schedule_type="cron",
        cron="0 6 * * *",
        name="Nightly",
    )


def visible_rows(page) -> set[str]:
    return {name for name in SCHEDULE_ROWS if page.locator(f".form-row.field-{name}").is_visible()}


def test_the_form_shows_the_fields_of_the_chosen_schedule_type(
    page, live_server, login, screenshot, owned_task
):
    page.set_viewport_size({"width": 1280, "height": 800})
    login("owner")
    page.goto(f"{live_server.url}/admin/scheduler_app/scheduledtask/{owned_task.pk}/change/")
    assert visible_rows(page) == {"cron_expression"}
    screenshot("task-form-cron")
    page.select_option("#id_schedule_type", "recurring")
    assert visible_rows(page) == {"interval_every", "interval_unit", "run_at"}
    page.select_option("#id_schedule_type", "event")
    assert visible_rows(page) == {"event_name"}
    page.fill("#id_event_name", "crm.opportunity.won")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_be_visible()
    task = ScheduledTask.objects.get(pk=owned_task.pk)
    assert (task.schedule_type, task.event_name) == ("event", "crm.opportunity.won")


def test_without_javascript_every_field_shows_and_a_type_change_saves(
    browser, live_server, owned_task
):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/scheduler_app/scheduledtask/{owned_task.pk}/change/")
    assert visible_rows(page) == set(SCHEDULE_ROWS)
    page.select_option("#id_schedule_type", "recurring")
    page.fill("#id_interval_every", "3")
    page.select_option("#id_interval_unit", "hours")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    task = ScheduledTask.objects.get(pk=owned_task.pk)
    assert (task.schedule_type, task.interval_every, task.interval_unit) == (
        "recurring",
        3,
        "hours",
    )
    context.close()

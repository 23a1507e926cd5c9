"""End to end: the admin's task form warns of a repeated schedule, and saves once confirmed."""

from __future__ import annotations

from playwright.sync_api import expect

from scheduler_app import services
from scheduler_app.models import ScheduledTask
from tests.conftest import grant


def test_the_admin_warns_of_a_repeated_schedule_and_saves_once_confirmed(
    page, live_server, login, screenshot, transactional_db, django_user_model
):
    user = django_user_model.objects.create_user("pat", password="pw", is_staff=True)
    grant(user, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    user = django_user_model.objects.get(pk=user.pk)
    tasks = [
        services.schedule(
            user=user,
            module="testmod",
            task_type="record",
            name=name,
            config={"note": "x"},
            schedule_type="cron",
            cron=cron,
            timezone="UTC",
        )
        for name, cron in (("Morning report", "0 6 * * *"), ("Later report", "0 7 * * *"))
    ]
    first, task = tasks
    page.set_viewport_size({"width": 1280, "height": 800})
    login("pat")

    page.goto(f"{live_server.url}/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    page.fill("#id_cron_expression", "0 6 * * *")
    page.get_by_role("button", name="Save", exact=True).click()

    warning = page.locator("#overlap-warning")
    expect(warning).to_contain_text("Morning report")
    expect(warning.locator(f'[data-task="{first.pk}"]')).to_have_count(1)
    expect(page.locator(".errornote")).to_have_count(0)
    screenshot("admin-overlap-01-warning")
    assert ScheduledTask.objects.get(pk=task.pk).cron_expression == "0 7 * * *"

    page.check("#id_confirm_overlaps")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Later report")
    assert ScheduledTask.objects.get(pk=task.pk).cron_expression == "0 6 * * *"

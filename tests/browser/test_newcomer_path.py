"""The path a newcomer takes, in Chromium at 1280 × 800: log in, find the module pages from the
admin, schedule a report in Berlin time, read the same labelled next run on the save message,
the module page, the list, the dashboard and the task page, run it now and see it finish, and
end a task through its confirmation page. Every page is screenshotted
(test-artifacts/screenshots/newcomer-*.png) and checked for horizontal overflow."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from project.reports.models import Report
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import display
from tests.conftest import grant

#: A Monday in summer (Berlin is on CEST), years ahead so that no cookie has expired for the
#: browser, whose own clock is the real one.
START = dt.datetime(2030, 6, 3, 10, 0, tzinfo=dt.UTC)
NEXT_RUN = "Mon, 2030-06-10 07:30 CEST"  # "30 7 * * 1" in Europe/Berlin after START
TASK_NAME = "Weekly users report"
OVERFLOW = """() => {
  const page = document.scrollingElement;
  const boxes = [...document.querySelectorAll('.results, .module, table')]
    .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
    .map(el => (el.id || el.className) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return {page: [page.scrollWidth, page.clientWidth], boxes};
}"""


@pytest.fixture
def newcomer(transactional_db, django_user_model, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    user = django_user_model.objects.create_user(
        "newcomer", password="pw", is_staff=True, email="newcomer@example.com"
    )
    grant(user, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")
    Report.objects.create(name="All users", source="users")
    return user


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


def test_the_newcomer_path(page, live_server, login, screenshot, newcomer, clock):
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 800})

    def shot(name: str) -> None:
        screenshot(f"newcomer-{name}")
        found = page.evaluate(OVERFLOW)
        scroll_width, client_width = found["page"]
        assert scroll_width <= client_width, f"{name}: the page scrolls sideways {found}"
        assert not found["boxes"], f"{name}: a box scrolls sideways {found['boxes']}"

    # 1. Log in; the admin index links the module pages.
    login("newcomer")
    shot("01-admin-index")
    pages = page.locator("#scheduling-pages")
    expect(pages).to_contain_text("Reports")
    pages.get_by_role("link", name="Reports").click()
    page.wait_for_url(f"{base}/reports/schedules/")
    expect(page.locator(".breadcrumbs")).to_contain_text("Home")
    expect(page.locator("#user-tools")).to_contain_text("newcomer")
    shot("02-reports-page")

    # 2. Schedule a report in Berlin time.
    page.get_by_role("link", name="Schedule: E-mail report").click()
    page.fill("#id_name", TASK_NAME)
    page.select_option("#id_schedule_type", "cron")
    page.fill("#id_cron", "30 7 * * 1")
    page.fill("#id_timezone", "Europe/Berlin")
    runs = page.locator('.sched-preview [data-preview="runs"] li')
    expect(runs.first).to_contain_text(NEXT_RUN)
    page.select_option("#id_config-report", label="All users")
    page.fill("#id_config-recipients", "team@example.com, boss@example.com")
    shot("03-schedule-form")
    page.get_by_role("button", name="Schedule report").click()
    page.wait_for_url(f"{base}/reports/schedules/")
    task = ScheduledTask.objects.get(name=TASK_NAME)
    assert display.format_when(task.next_run, task) == NEXT_RUN

    # 3. The same labelled time on the save message, the module page, the list, the
    #    dashboard and the task page.
    expect(page.locator("ul.messagelist")).to_contain_text(NEXT_RUN)
    expect(page.locator(f'#report-schedules tr[data-task="{task.pk}"]')).to_contain_text(NEXT_RUN)
    shot("04-saved")
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/")
    expect(page.locator("#result_list")).to_contain_text(NEXT_RUN)
    expect(page.locator("#result_list")).to_contain_text("newcomer")  # the owner column shows
    shot("05-list")
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/dashboard/")
    expect(page.locator("#upcoming-runs")).to_contain_text(NEXT_RUN)
    shot("06-dashboard")
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    expect(page.locator(".field-next_run_when")).to_contain_text(NEXT_RUN)
    expect(page.locator(".field-next_runs_display li").first).to_contain_text(NEXT_RUN)
    expect(page.locator(".field-config_display")).to_contain_text("boss@example.com")
    shot("07-task-page")

    # 4. Run it now; one scheduler pass in this process runs it; the page shows how it went.
    page.locator('button[data-action="run_now"]').click()
    expect(page.locator("ul.messagelist")).to_contain_text("Queued 1 task")
    call_command("runscheduler", task_ids=[task.pk], workers=0, verbosity=0)
    page.reload()
    history = page.locator("#task-history tr.sched-log-row")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Success")
    shot("08-task-page-after-run")
    history.first.get_by_role("link", name="Details").click()
    expect(page.locator("#content-main")).to_contain_text("Run now, asked by newcomer")
    expect(page.locator(".sched-result")).to_contain_text("All users")
    shot("09-run-page")

    # 5. End the schedule through its confirmation page.
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    page.get_by_role("link", name="End schedule…").click()
    page.wait_for_url(re.compile(rf"/scheduledtask/{task.pk}/end/$"))
    expect(page.locator("#content-main")).to_contain_text("cannot be resumed or restarted")
    assert ScheduledTask.objects.get(pk=task.pk).status == "pending"
    shot("10-end-confirmation")
    page.get_by_role("button", name="Yes, end this schedule").click()
    page.wait_for_url(f"{base}/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    expect(page.locator("ul.messagelist")).to_contain_text("Ended the schedule")
    expect(page.locator(".field-status_display")).to_contain_text("Cancelled")
    assert ScheduledTask.objects.get(pk=task.pk).status == "cancelled"
    shot("11-ended")

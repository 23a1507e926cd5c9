"""A long demo report, watched in Chromium at 1280 × 800: the task page's bar advances, the run
page and the dashboard show it too, and the task page flips to success, all without a reload.
Screenshots: test-artifacts/screenshots/live-*.png."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import expect

from project.reports.models import Report
from scheduler_app import services
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import TaskExecutionLog
from tests.conftest import grant

ROWS = 100
ROW_PAUSE = 0.06  # a six-second report: a slow data source, as the demo's setting stands for


@pytest.fixture
def watcher(transactional_db, django_user_model, settings):
    settings.REPORTS_ROW_PAUSE = ROW_PAUSE
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline", "PROGRESS_INTERVAL": 0.2}
    user = django_user_model.objects.create_user("watcher", password="pw", is_staff=True)
    grant(user, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")
    User.objects.bulk_create(User(username=f"user{i:03d}") for i in range(ROWS - 1))
    report = Report.objects.create(name="All users", source="users")
    task = services.schedule(
        user=user,
        module="reports",
        task_type="generate_report",
        config={"report": report.pk},
        schedule_type="cron",
        cron="0 2 * * *",
        name="Slow users report",
    )
    return task


def percent_of(page) -> float:  # noqa: ANN001
    value = page.locator("#task-live .sched-live-run[data-status='running'] progress").first
    return float(value.get_attribute("data-percent") or 0)


def test_a_long_report_shows_its_bar_advance_and_flips_to_success(
    page, live_server, login, screenshot, watcher
):
    task = watcher
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 800})
    login("watcher")
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    expect(page.locator("#task-live")).to_contain_text("This task has not run yet.")
    page.locator('button[data-action="run_now"]').click()
    expect(page.locator("ul.messagelist")).to_contain_text("Queued 1 task")
    page.evaluate("window.__sameDocument = true")  # gone if the page were reloaded

    def scheduler() -> None:
        try:
            run_pass(PassOptions(filters=Filters(task_ids=(task.pk,)), workers=0))
        finally:
            connection.close()

    thread = threading.Thread(target=scheduler)
    thread.start()
    try:
        running = page.locator("#task-live .sched-live-run[data-status='running']")
        expect(running).to_be_visible(timeout=10_000)
        expect(running).to_contain_text("Writing row")
        first = percent_of(page)
        page.wait_for_function(
            f"""() => {{
              const bar = document.querySelector("#task-live .sched-live-run[data-status='running'] progress");
              return bar && parseFloat(bar.dataset.percent || 0) > {first};
            }}""",
            timeout=10_000,
        )
        # The live box's status and the status field of the form both follow the run.
        expect(page.locator("[data-sched-task-status]")).to_have_text(["Running", "Running"])
        screenshot_page(page, "live-01-task-page-running")

        # The run page and the dashboard show the same run live (another tab).
        log = TaskExecutionLog.objects.get(task=task)
        other = page.context.new_page()
        other.set_viewport_size({"width": 1280, "height": 800})
        other.goto(f"{base}/admin/scheduler_app/scheduledtask/{task.pk}/logs/{log.pk}/")
        expect(other.locator(".sched-live-run[data-status='running'] progress")).to_be_visible()
        screenshot_page(other, "live-02-run-page-running")
        other.goto(f"{base}/admin/scheduler_app/scheduledtask/dashboard/")
        expect(other.locator("#running-now .sched-live-run")).to_contain_text("Slow users report")
        screenshot_page(other, "live-03-dashboard-running")
        other.close()

        expect(page.locator("#task-live .sched-live")).to_have_attribute(
            "data-state", "success", timeout=20_000
        )
        expect(page.locator("#task-live .sched-live-run").first).to_contain_text("Success")
        expect(page.locator("#task-live progress").first).to_have_attribute("data-percent", "100")
        expect(page.locator("[data-sched-task-status]")).to_have_text(["Pending", "Pending"])
        assert page.evaluate("window.__sameDocument") is True  # no reload happened
        # The history below was drawn before the run ended: the box offers a reload.
        reload_link = page.locator("#task-live .sched-live-ended a")
        expect(reload_link).to_contain_text("reload it to see the run in the history")
        screenshot_page(page, "live-04-task-page-success")
        screenshot("live-05-task-page-success-full")
    finally:
        thread.join(60)
    log = TaskExecutionLog.objects.get(task=task)
    assert (log.status, log.progress_done, log.progress_total) == ("success", ROWS, ROWS)


def screenshot_page(page, name: str) -> None:  # noqa: ANN001
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

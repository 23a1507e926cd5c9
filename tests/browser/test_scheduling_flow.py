"""End to end: a module user schedules a report with the live preview, finds it in the
global view, runs it now and sees the run; an admin sees it on the dashboard."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command, get_commands
from playwright.sync_api import expect

from project.reports.models import Report
from scheduler_app.models import ScheduledTask
from tests.conftest import grant

TASK_NAME = "Weekly users report"


@pytest.fixture
def people(transactional_db, django_user_model):
    report_user = django_user_model.objects.create_user("reporter", password="pw", is_staff=True)
    grant(report_user, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")
    admin = django_user_model.objects.create_superuser("boss", password="pw")
    report = Report.objects.create(name="All users", source="users")
    return report_user, admin, report


def run_scheduler_pass(task: ScheduledTask) -> None:
    if "runscheduler" not in get_commands():
        pytest.skip("The runscheduler command is not installed in this checkout.")
    call_command("runscheduler", task_ids=[task.pk], workers=0, verbosity=0)


def test_report_user_schedules_finds_and_runs_a_report(
    page, live_server, login, screenshot, people
):
    report_user, _admin, report = people
    base = live_server.url

    # 1. The reports module's own page links to its scheduling form.
    login("reporter")
    page.goto(f"{base}/reports/schedules/")
    screenshot("01-reports-page")
    page.get_by_role("link", name="Schedule: E-mail report").click()
    page.wait_for_url(re.compile(r"/reports/schedules/email_report/new/"))

    # 2. The preview follows the schedule while typing.
    preview = page.locator(".sched-preview")
    page.fill("#id_name", TASK_NAME)
    page.select_option("#id_schedule_type", "cron")
    page.fill("#id_cron", "30 7 * * 1")
    expect(preview.locator('[data-preview="description"]')).to_contain_text("07:30")
    expect(preview.locator('[data-preview="description"]')).to_contain_text("Monday")
    expect(preview.locator('[data-preview="runs"] li')).to_have_count(5)
    page.fill("#id_timezone", "Europe/Berlin")
    expect(preview.locator('[data-preview="description"]')).to_contain_text("Europe/Berlin")
    expect(preview.locator('[data-preview="runs"] li').first).to_contain_text(re.compile("CES?T"))
    page.fill("#id_cron", "30 7 * *")
    expect(preview.locator('[data-preview="error"]')).to_contain_text("5 fields")
    screenshot("02-form-preview-error")
    page.fill("#id_cron", "30 7 * * 1")
    expect(preview.locator('[data-preview="error"]')).to_be_hidden()

    # Interval fields appear only for recurring schedules.
    expect(page.locator('[data-field="interval_every"]')).to_be_hidden()
    page.select_option("#id_schedule_type", "recurring")
    expect(page.locator('[data-field="interval_every"]')).to_be_visible()
    page.select_option("#id_schedule_type", "cron")

    # 3. A bad config value comes back as an inline error; nothing is saved.
    page.select_option("#id_config-report", str(report.pk))
    page.fill("#id_config-recipients", "not-an-address")
    page.click("input[type=submit]")
    expect(page.locator(".field-recipients .errorlist")).to_contain_text("Not a valid e-mail")
    assert not ScheduledTask.objects.exists()
    screenshot("03-form-field-error")
    page.fill("#id_config-recipients", "team@example.com")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/reports/schedules/")
    expect(page.locator("#report-schedules")).to_contain_text(TASK_NAME)
    screenshot("04-reports-page-with-task")
    task = ScheduledTask.objects.get(name=TASK_NAME)
    assert (task.module_id, task.task_type, task.owner, task.timezone) == (
        "reports",
        "email_report",
        report_user,
        "Europe/Berlin",
    )

    # 4. The global view finds it; "run now" is reported.
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/")
    page.fill("#searchbar", "Weekly")
    page.press("#searchbar", "Enter")
    row = page.locator("#result_list tbody tr", has_text=TASK_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Reports")
    screenshot("05-global-view")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "run_tasks_now")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Queued 1 task")
    screenshot("06-run-now-reported")

    # 5. One scheduler pass runs it; the task page shows the new history row.
    run_scheduler_pass(task)
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/{task.pk}/change/")
    history = page.locator("#task-history tr.sched-log-row")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Success")
    expect(page.locator("#task-metrics")).to_contain_text("100.0 %")
    expect(page.locator(".field-next_runs_display li")).to_have_count(5)
    screenshot("07-task-page")
    history.first.get_by_role("link", name="Details").click()
    expect(page.locator("#content-main")).to_contain_text("Sent")
    screenshot("08-log-detail")

    # 6. The admin sees the same task and the run on the dashboard.
    login("boss")
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/dashboard/")
    expect(page.locator("#status-counts")).to_contain_text("Pending")
    expect(page.locator("svg.sched-chart")).to_have_count(2)
    expect(page.locator("#upcoming-runs")).to_contain_text(TASK_NAME)
    screenshot("09-dashboard-admin")
    page.goto(f"{base}/admin/scheduler_app/scheduledtask/")
    expect(page.locator("#result_list")).to_contain_text(TASK_NAME)
    screenshot("10-global-view-admin")

"""Small things a newcomer stumbles on: errors that name their field, hints that do not look
like values, a dashboard that counts how runs went, who asked for a run, whole names."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import run_pass
from scheduler_app.forms import TaskScheduleForm
from scheduler_app.models import ScheduledTask

ROOT = Path(__file__).resolve().parent.parent
MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


def change_url(task):
    return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])


@pytest.fixture
def inline(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}


@pytest.fixture
def owner(make_user):
    return make_user(*MODULE_PERMS, is_staff=True, username="alice")


def test_an_empty_name_does_not_hide_the_schedule_s_errors_in_the_admin_form(
    client, owner, make_task
):
    task = make_task(name="t", user=owner, cron="0 6 * * *")
    client.force_login(owner)
    data = {
        "name": "",
        "enabled": "on",
        "schedule_type": "cron",
        "cron_expression": "61 * * * *",
        "timezone": "UTC",
        "priority": 5,
        "max_retries": 3,
        "timeout": 300,
        "misfire_policy": task.misfire_policy,
        "_save": "Save",
    }
    response = client.post(change_url(task), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"name", "cron_expression"} <= set(errors)


def test_hints_in_the_scheduling_form_do_not_look_like_values(owner):
    form = TaskScheduleForm("testmod", "record", user=owner)
    cron = form.options.fields["cron"].widget.attrs["placeholder"]
    assert cron.startswith("e.g. ")
    name = form.options.fields["name"]
    assert "placeholder" not in name.widget.attrs
    assert "Record an execution" in str(name.help_text)


def render_form(form) -> str:
    return Template("{% load scheduler_tags %}{% scheduler_form form %}").render(
        Context({"form": form})
    )


def test_the_preview_names_the_field_of_its_error_and_hides_an_empty_run_list(owner):
    data = {"name": "x", "schedule_type": "cron", "cron": "30 7 * *", "timezone": "UTC"}
    html = render_form(TaskScheduleForm("testmod", "record", user=owner, data=data))
    error = re.search(r'data-preview="error">(.*?)</p>', html, re.S)[1]
    assert error.startswith("Cron expression: ")
    assert re.search(r'<h3 data-preview="runs-heading" hidden>', html)

    data["cron"] = "30 7 * * *"
    html = render_form(TaskScheduleForm("testmod", "record", user=owner, data=data))
    assert re.search(r'<h3 data-preview="runs-heading">', html)


def test_the_dashboard_counts_tasks_by_how_their_last_run_went(client, make_user, make_task):
    for n in range(5):
        task = make_task(name=f"ok{n}")
        ScheduledTask.objects.filter(pk=task.pk).update(last_status="success")
    failed = make_task(name="bad")
    ScheduledTask.objects.filter(pk=failed.pk).update(last_status="failed")
    make_task(name="new")
    client.force_login(make_user(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:scheduler_app_scheduledtask_dashboard"))
    counts = {status: n for status, _label, n in response.context["last_run_counts"]}
    assert counts["success"] == 5 and counts["failed"] == 1 and counts[""] == 1
    html = response.content.decode()
    assert re.search(r'data-last-status="success"><span>Success</span><strong>5<', html)
    assert re.search(r'data-last-status="never"><span>Never run</span><strong>1<', html)
    # The status cards say what they count: every one of these tasks is pending now.
    assert "Tasks by status now" in html


def test_the_run_page_says_who_asked_for_a_run_or_that_its_schedule_did(
    client, owner, make_task, inline
):
    task = make_task(name="t", user=owner, due=timezone.now() - dt.timedelta(minutes=1))
    run_pass()
    services.run_now(task, user=owner)
    run_pass()
    client.force_login(owner)
    by_schedule, by_request = task.logs.order_by("pk")
    pages = [
        client.get(
            reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk])
        ).content.decode()
        for log in (by_schedule, by_request)
    ]
    assert "Its schedule (a scheduler pass)" in pages[0]
    assert re.search(r"Run now, asked by alice at \w{3}, \d{4}-\d\d-\d\d \d\d:\d\d UTC", pages[1])


def test_scheduler_list_shows_whole_names_and_schedules(make_task):
    name = "A rather long task name that goes on " * 3
    make_task(name=name.strip(), cron="30 7 * * 1-5", timezone="Europe/Berlin")
    out = io.StringIO()
    call_command("scheduler_list", stdout=out)
    text = out.getvalue()
    assert name.strip() in text
    assert "At 07:30, Monday through Friday (Europe/Berlin)" in text


def test_the_system_task_has_a_plain_name():
    from scheduler_app.scheduler_tasks import SchedulerMaintenanceProvider

    assert SchedulerMaintenanceProvider.system_tasks["prune"].name == "Delete old execution logs"


def test_the_deliberate_crash_of_the_tests_prints_no_fatal_error_dump():
    """The segfault task kills its process with SIGSEGV, without faulthandler's dump, which a
    worker inherits from pytest (here: python -X faulthandler) and printed into every run."""
    code = (
        "import django; django.setup()\n"
        "from tests.testapp.scheduler_tasks import Segfault\n"
        "Segfault().execute(None)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "Fatal Python error" not in proc.stderr

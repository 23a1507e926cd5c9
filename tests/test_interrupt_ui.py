"""Stopping a run from the command line (scheduler_interrupt) and from the task and log pages."""

from __future__ import annotations

import datetime as dt
import threading
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog

OWNER_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


def open_run(task: ScheduledTask, **fields) -> TaskExecutionLog:
    """A run the scheduler has claimed and not finished (as if a worker were running it)."""
    ScheduledTask.objects.filter(pk=task.pk).update(status="running")
    return TaskExecutionLog.objects.create(
        task=task,
        run_id=f"run{task.pk:029d}",
        scheduled_for=timezone.now(),
        status=RunStatus.RUNNING,
        host="h",
        pid=1,
        **fields,
    )


# -- the command, end to end --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_scheduler_interrupt_stops_a_long_run_and_the_log_names_who(make_task, make_user, settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "process",
        "WORKERS": 2,
        "INTERRUPT_GRACE": 2,
    }
    past = timezone.now() - dt.timedelta(minutes=1)
    owner = make_user(*OWNER_PERMS)
    hang = make_task("hang", due=past, timeout=120, user=owner)
    other = make_task("record", due=past, config={"sleep": 0.2})
    outputs: dict[str, str] = {}

    def stop_it() -> None:
        try:
            for _ in range(150):
                log = TaskExecutionLog.objects.filter(task=hang, status=RunStatus.RUNNING).first()
                if log is not None:
                    time.sleep(0.5)
                    out = StringIO()
                    call_command(
                        "scheduler_interrupt",
                        log.run_id,
                        "--as-user",
                        owner.username,
                        "--wait",
                        "25",
                        stdout=out,
                    )
                    outputs["out"] = out.getvalue()
                    return
                time.sleep(0.1)
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            outputs["error"] = repr(exc)
        finally:
            close_old_connections()

    stopper = threading.Thread(target=stop_it)
    stopper.start()
    started = time.monotonic()
    report = run_pass(PassOptions())
    stopper.join()

    assert "error" not in outputs, outputs
    assert time.monotonic() - started < 40, report  # not the 120 s timeout
    log = TaskExecutionLog.objects.get(task=hang)
    assert log.status == RunStatus.CANCELLED
    assert owner.username in log.error_message and log.interrupt_requested_by == owner.username
    assert f"Asked the scheduler to stop run {log.run_id}" in outputs["out"]
    assert f"Run {log.run_id} ended cancelled" in outputs["out"]
    assert TaskExecutionLog.objects.get(task=other).status == RunStatus.SUCCESS  # the pass went on
    hang.refresh_from_db()
    assert hang.status == "pending" and hang.next_run > past


@pytest.mark.django_db
def test_scheduler_interrupt_finds_a_run_by_its_number_and_acts_as_the_system(make_task):
    log = open_run(make_task("hang"))
    out = StringIO()
    call_command("scheduler_interrupt", str(log.pk), stdout=out)
    log.refresh_from_db()
    assert log.interrupt_requested_at is not None and log.interrupt_requested_by == "system"
    assert "Asked the scheduler to stop run" in out.getvalue()


@pytest.mark.django_db
def test_scheduler_interrupt_refuses_clearly(make_task, make_user):
    task = make_task("hang")
    log = open_run(task)
    with pytest.raises(CommandError, match="No run 'nope'"):
        call_command("scheduler_interrupt", "nope", stdout=StringIO())
    stranger = make_user("scheduler_app.SA_SCHEDULER")
    with pytest.raises(CommandError, match="that you may see"):
        call_command(
            "scheduler_interrupt", log.run_id, "--as-user", stranger.username, stdout=StringIO()
        )
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW")
    with pytest.raises(CommandError, match="may not stop runs"):
        call_command(
            "scheduler_interrupt", log.run_id, "--as-user", viewer.username, stdout=StringIO()
        )
    with pytest.raises(CommandError, match="No user named"):
        call_command("scheduler_interrupt", log.run_id, "--as-user", "ghost", stdout=StringIO())
    TaskExecutionLog.objects.filter(pk=log.pk).update(status=RunStatus.SUCCESS)
    with pytest.raises(CommandError, match="not running any more"):
        call_command("scheduler_interrupt", log.run_id, stdout=StringIO())


@pytest.mark.django_db
def test_scheduler_interrupt_wait_gives_up_with_a_clear_line(make_task):
    log = open_run(make_task("hang"))
    with pytest.raises(CommandError, match="still running after 0.3 s"):
        call_command("scheduler_interrupt", log.run_id, "--wait", "0.3", stdout=StringIO())


# -- the Stop button --------------------------------------------------------------------


def change_url(task: ScheduledTask) -> str:
    return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])


@pytest.mark.django_db
def test_the_task_page_shows_stop_for_open_runs_to_who_may_run_the_task(
    client, make_task, make_user
):
    owner = make_user(*OWNER_PERMS, is_staff=True)
    task = make_task("hang", user=owner)
    log = open_run(task)
    client.force_login(owner)
    html = client.get(change_url(task)).content.decode()
    stop_url = reverse("scheduler_app:stop_run", args=[log.pk])
    assert f'action="{stop_url}"' in html and 'data-action="stop_run"' in html
    # In the object tools and in the history row.
    assert html.count(f'data-action="stop_run" data-log="{log.pk}"') == 2
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", is_staff=True)
    client.force_login(viewer)
    html = client.get(change_url(task)).content.decode()
    assert client.get(change_url(task)).status_code == 200 and 'data-action="stop_run"' not in html


@pytest.mark.django_db
def test_no_stop_button_without_open_runs(client, make_task, make_user):
    owner = make_user(*OWNER_PERMS, is_staff=True)
    task = make_task("noop", user=owner)
    TaskExecutionLog.objects.create(
        task=task, run_id="done", scheduled_for=timezone.now(), status=RunStatus.SUCCESS
    )
    client.force_login(owner)
    assert 'data-action="stop_run"' not in client.get(change_url(task)).content.decode()


@pytest.mark.django_db
def test_the_stop_button_asks_the_service_and_returns_to_the_page(client, make_task, make_user):
    owner = make_user(*OWNER_PERMS, is_staff=True)
    task = make_task("hang", user=owner)
    log = open_run(task)
    client.force_login(owner)
    response = client.post(
        reverse("scheduler_app:stop_run", args=[log.pk]), {"next": change_url(task)}, follow=True
    )
    assert response.redirect_chain[-1][0] == change_url(task)
    log.refresh_from_db()
    assert log.interrupt_requested_by == owner.username
    assert "Asked the scheduler to stop run" in response.content.decode()
    # The log page says who asked, and offers the button while the run is open.
    html = client.get(
        reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk])
    ).content.decode()
    assert f"Stop requested by {owner.username}" in html and 'data-action="stop_run"' in html
    # Once the run ended, stopping it again is a message, not an error page.
    TaskExecutionLog.objects.filter(pk=log.pk).update(status=RunStatus.CANCELLED)
    response = client.post(reverse("scheduler_app:stop_run", args=[log.pk]), follow=True)
    assert response.status_code == 200 and "not running any more" in response.content.decode()


@pytest.mark.django_db
def test_the_stop_view_refuses_others_and_ignores_foreign_next(client, make_task, make_user):
    owner = make_user(*OWNER_PERMS, is_staff=True)
    task = make_task("hang", user=owner)
    log = open_run(task)
    url = reverse("scheduler_app:stop_run", args=[log.pk])
    assert client.post(url).status_code == 302  # to the login page
    assert client.get(url).status_code in (302, 405)
    client.force_login(make_user("scheduler_app.SA_SCHEDULER"))
    assert client.post(url).status_code == 404  # may not even see it
    client.force_login(make_user("scheduler_app.SA_SCHEDULER_VIEW"))
    assert client.post(url).status_code == 403
    log.refresh_from_db()
    assert log.interrupt_requested_at is None
    client.force_login(owner)
    response = client.post(url, {"next": "https://evil.example.com/"})
    assert response.status_code == 302 and response["Location"] == change_url(task)

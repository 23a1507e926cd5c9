"""Live runs: the JSON the pages poll, its permissions, the estimate, the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, services, task_configs
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.policy import permissions
from scheduler_app.registry import registry
from scheduler_app.services import live
from tests.test_permissions_matrix import ACTIONS, MATRIX, other_module, scene  # noqa: F401, F811

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
BASE = "scheduler_app.SA_TESTMOD"
LOGS = ACTIONS.index("view logs")


def open_run(task: ScheduledTask, **fields) -> TaskExecutionLog:
    """A run going on: 40 of 100 done, started a minute ago."""
    values = {
        "run_id": f"live{task.pk}",
        "scheduled_for": timezone.now(),
        "status": RunStatus.RUNNING,
        "started_at": timezone.now() - dt.timedelta(seconds=60),
        "progress_done": 40,
        "progress_total": 100,
        "progress_message": "Writing rows",
        "progress_at": timezone.now(),
        "output": "line 1\nline 2\n",
        **fields,
    }
    return TaskExecutionLog.objects.create(task=task, **values)


# -- the estimate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "fraction", "typical", "left"),
    [
        (60, 0.4, 100, 60.0),  # typical 100 s, 40 % done: 60 s of it left
        (60, None, 100, 40.0),  # no fraction: the typical length less the time gone
        (120, None, 100, None),  # longer than usual and no fraction: no estimate
        (60, 0.4, None, 90.0),  # no history: its own pace
        (60, None, None, None),
        (60, 0.0, None, None),
    ],
)
def test_time_left_comes_from_the_tasks_history_else_from_its_pace(
    elapsed, fraction, typical, left
):
    assert live.seconds_left(elapsed, fraction, typical) == left


def test_the_typical_duration_is_the_average_of_recent_successful_runs(make_task):
    task = make_task("noop")
    now = timezone.now()
    for i, (status, duration, days) in enumerate(
        [("success", 10, 1), ("success", 20, 2), ("failed", 500, 1), ("success", 900, 40)]
    ):
        TaskExecutionLog.objects.create(
            task=task,
            run_id=f"h{i}",
            scheduled_for=now - dt.timedelta(days=days, minutes=i),
            started_at=now - dt.timedelta(days=days),
            status=status,
            duration=duration,
        )
    assert live.typical_durations([task.pk], now) == {task.pk: 15.0}


def test_a_live_run_has_its_progress_times_and_the_tail_of_its_output(make_task):
    task = make_task("noop")
    log = open_run(task, output="x" * 10 + "y" * live.OUTPUT_TAIL)
    run = live.describe(log, task, now=timezone.now(), typical=100.0)
    assert (run.done, run.total, run.percent, run.message) == (40, 100, 40.0, "Writing rows")
    assert run.running and run.finished_at is None
    assert 59 <= run.elapsed <= 70
    assert run.seconds_left == pytest.approx(60.0)
    assert run.output_tail == "y" * live.OUTPUT_TAIL


# -- secrets ----------------------------------------------------------------------------


class TokenForm(forms.Form):
    token = forms.CharField()


class UsesToken(SchedulableTask):
    name = "Uses a token"
    config_form = TokenForm
    secret_fields = ("token",)

    def execute(self, context):
        return TaskResult.success()


class SecretProvider(TaskProvider):
    module_id = "livesecret"
    name = "Live secrets"
    base_permission = "SA_LIVESECRET"
    task_types = {"uses_token": UsesToken}


@pytest.fixture
def secret_module(db):
    registry.register(SecretProvider, strict=True)
    permissions.sync_permissions()
    yield
    registry.unregister("livesecret")


def test_the_tasks_secrets_are_masked_in_message_output_and_error(secret_module, client, make_user):
    admin = make_user(is_superuser=True, is_staff=True)
    task = services.schedule(
        user=None,
        module="livesecret",
        task_type="uses_token",
        schedule_type="cron",
        cron="0 * * * *",
        config={"token": "s3cr3t-t0ken"},
    )
    log = open_run(
        task,
        progress_message="calling with s3cr3t-t0ken",
        output="Authorization: s3cr3t-t0ken\n",
    )
    client.force_login(admin)
    body = client.get(f"/scheduler/live/runs/{log.pk}/").json()["run"]
    assert "s3cr3t-t0ken" not in str(body)
    assert (
        task_configs.SECRET_MASK in body["message"]
        and task_configs.SECRET_MASK in body["output_tail"]
    )


# -- the JSON endpoints' permissions ----------------------------------------------------


@pytest.mark.parametrize("role", list(MATRIX))
def test_the_live_json_follows_the_policy_for_every_role(role, scene, client):  # noqa: F811
    user, task = scene(role)
    log = open_run(task)
    if not isinstance(user, AnonymousUser):
        client.force_login(user)
    may_see_logs = MATRIX[role][LOGS]
    answers = [
        client.get(f"/scheduler/live/runs/{log.pk}/"),
        client.get(f"/scheduler/live/tasks/{task.pk}/"),
    ]
    running = client.get("/scheduler/live/running/")
    if role == "anonymous":
        assert [a.status_code for a in [*answers, running]] == [401, 401, 401]
        return
    if may_see_logs:
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json()["run"]["percent"] == 40.0
        # The open run first, then the newest run (the scene's finished one).
        runs = answers[1].json()["runs"]
        assert [(r["id"], r["running"]) for r in runs][0] == (log.pk, True)
        assert [r["running"] for r in runs[1:]] == [False]
        assert [r["id"] for r in running.json()["runs"]] == [log.pk]
    else:
        assert [a.status_code for a in answers] == [404, 404]  # existence not revealed
        assert running.json()["runs"] == []
    for answer in [*answers, running]:
        assert answer["Cache-Control"].startswith("max-age=0")


def test_the_live_json_answers_get_only_and_checks_its_input(client, make_user, make_task):
    user = make_user(permissions.SCHEDULER, BASE)
    client.force_login(user)
    assert client.post("/scheduler/live/running/").status_code == 405
    bad = client.get("/scheduler/live/running/", {"module": "x" * 65})
    assert bad.status_code == 400 and bad.json()["field"] == "module"
    assert client.get("/scheduler/live/runs/999999/").status_code == 404


def test_running_lists_only_open_runs_of_the_module_asked_for(client, make_user, make_task):
    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task("noop")
    running = open_run(task)
    TaskExecutionLog.objects.create(
        task=task, run_id="done", scheduled_for=timezone.now(), status=RunStatus.SUCCESS
    )
    client.force_login(admin)
    listed = client.get("/scheduler/live/running/", {"module": "testmod"}).json()["runs"]
    assert [r["id"] for r in listed] == [running.pk]
    assert client.get("/scheduler/live/running/", {"module": "crm"}).json()["runs"] == []


def test_a_finished_run_flips_to_its_final_status(client, make_user, make_task):
    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task("noop")
    log = open_run(task)
    client.force_login(admin)
    assert client.get(f"/scheduler/live/runs/{log.pk}/").json()["run"]["running"] is True
    TaskExecutionLog.objects.filter(pk=log.pk).update(
        status=RunStatus.SUCCESS, finished_at=timezone.now(), progress_done=100
    )
    run = client.get(f"/scheduler/live/runs/{log.pk}/").json()["run"]
    assert (run["running"], run["status"], run["percent"]) == (False, "success", 100.0)
    assert run["seconds_left"] is None and run["finished"].endswith("UTC")


# -- the pages carry the live box -------------------------------------------------------


def test_task_run_dashboard_and_module_pages_poll_their_live_json(client, make_user, make_task):
    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task("noop")
    log = open_run(task)
    client.force_login(admin)
    pages = {
        f"/admin/scheduler_app/scheduledtask/{task.pk}/change/": f"/scheduler/live/tasks/{task.pk}/",
        f"/admin/scheduler_app/scheduledtask/{task.pk}/logs/{log.pk}/": f"/scheduler/live/runs/{log.pk}/",
        "/admin/scheduler_app/scheduledtask/dashboard/": "/scheduler/live/running/",
    }
    for page, url in pages.items():
        html = client.get(page).content.decode()
        assert f'data-sched-live="{url}' in html, page
        assert "scheduler_app/live.js" in html


def test_the_api_shows_a_runs_progress(client, make_user, make_task):
    from rest_framework.test import APIClient

    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task("noop")
    log = open_run(task)
    api = APIClient()
    api.force_login(admin)
    body = api.get(f"/api/scheduler/runs/{log.pk}/").json()
    assert body["progress"]["done"] == 40 and body["progress"]["total"] == 100
    assert body["progress"]["percent"] == 40.0 and body["progress"]["message"] == "Writing rows"
    quiet = TaskExecutionLog.objects.create(
        task=task, run_id="quiet", scheduled_for=timezone.now(), status=RunStatus.SUCCESS
    )
    assert api.get(f"/api/scheduler/runs/{quiet.pk}/").json()["progress"] is None
    schema = api.get("/api/scheduler/schema/", HTTP_ACCEPT="application/json").json()
    assert "progress" in schema["components"]["schemas"]["RunDetail"]["properties"]


def test_a_module_page_polls_the_running_runs_of_its_module(client, make_user):
    from tests.test_module_pages import PAGES, REPORTS_USER, schedule_report

    owner = make_user(*REPORTS_USER, is_staff=True, username="rep")
    schedule_report(owner)
    client.force_login(owner)
    html = client.get(PAGES["reports"]).content.decode()
    assert 'data-sched-live="/scheduler/live/running/?module=reports"' in html


def test_the_running_list_costs_the_same_queries_for_many_runs(client, make_user, make_task):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user(permissions.SCHEDULER, BASE)
    client.force_login(user)

    def queries_for(runs: int) -> int:
        TaskExecutionLog.objects.all().delete()
        for _ in range(runs):
            open_run(make_task("noop", user=user))
        with CaptureQueriesContext(connection) as ctx:
            listed = client.get("/scheduler/live/running/").json()["runs"]
        assert len(listed) == runs
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(12)


def test_links_lead_where_the_user_may_go(client, make_user, make_task):
    task = make_task("noop")
    log = open_run(task)
    client.force_login(make_user(is_superuser=True, is_staff=True))
    staff = client.get(f"/scheduler/live/runs/{log.pk}/").json()["run"]
    assert staff["url"] == f"/admin/scheduler_app/scheduledtask/{task.pk}/logs/{log.pk}/"
    assert staff["task_url"] == f"/admin/scheduler_app/scheduledtask/{task.pk}/change/"
    client.force_login(make_user(is_superuser=True, is_staff=False))
    other = client.get(f"/scheduler/live/runs/{log.pk}/").json()["run"]
    assert (other["url"], other["task_url"]) == ("", f"/scheduler/task/{task.pk}/edit/")

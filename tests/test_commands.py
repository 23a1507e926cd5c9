"""The operator commands: scheduler_list, scheduler_run, scheduler_crontab, scheduler_prune,
and the lock cache and provider lines of ``runscheduler --check``."""

from __future__ import annotations

import datetime as dt
import io
import json
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from scheduler_app import services, task_configs
from scheduler_app.engine import locks
from scheduler_app.models import PendingAlert, RunStatus, SchedulerHeartbeat, TaskExecutionLog
from scheduler_app.policy import permissions
from scheduler_app.registry import registry
from tests.test_permissions_roles import BASE
from tests.testapp.models import Execution

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def command(name: str, *args: str, **options) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()


# -- scheduler_list ------------------------------------------------------------------------


@pytest.fixture
def listed(make_task, make_user):
    owner = make_user(permissions.SCHEDULER, BASE, username="olivia")
    nightly = make_task(name="Nightly", user=owner, tags=["ops"], cron="0 2 * * *", priority=2)
    paused = make_task(name="Paused one", cron="0 3 * * *")
    services.pause(paused, user=None)
    ping = make_task(
        "request",
        module="http",
        name="Ping",
        config={"url": "https://example.com/", "secret_headers": "Authorization: Bearer s3cret"},
    )
    return owner, nightly, paused, ping


def test_list_json_prints_every_task_with_its_schedule_and_masked_config(listed):
    _owner, nightly, paused, ping = listed
    rows = json.loads(command("scheduler_list", json=True))
    assert [r["id"] for r in rows] == [ping.pk, nightly.pk, paused.pk]  # by module, priority
    by_id = {r["id"]: r for r in rows}
    first = by_id[nightly.pk]
    assert first["name"] == "Nightly" and first["module"] == "testmod"
    assert first["task_type"] == "record" and first["status"] == "pending" and first["enabled"]
    assert first["schedule"] == nightly.describe_schedule()
    assert first["next_run"] == nightly.next_run.isoformat()
    assert first["tags"] == ["ops"] and first["priority"] == 2
    assert first["last_run"] is None and first["last_status"] is None
    assert by_id[paused.pk]["status"] == "paused"
    assert by_id[ping.pk]["config"]["secret_headers"] == task_configs.SECRET_MASK
    assert "s3cret" not in command("scheduler_list", json=True)


def test_list_json_filters_and_limits(listed):
    _owner, nightly, paused, ping = listed

    def ids(**options) -> list[int]:
        return [r["id"] for r in json.loads(command("scheduler_list", json=True, **options))]

    assert ids(module="http") == [ping.pk]
    assert ids(status="paused") == [paused.pk]
    assert ids(tag="ops") == [nightly.pk]
    assert ids(limit=1) == [ping.pk]
    assert ids(limit=-5) == []


def test_list_as_a_user_shows_only_what_they_may_see(listed):
    _owner, nightly, paused, _ping = listed
    rows = json.loads(command("scheduler_list", "--as-user", "olivia", json=True))
    assert sorted(r["id"] for r in rows) == sorted([nightly.pk, paused.pk])  # no http task


def test_list_as_an_unknown_user_is_one_line():
    with pytest.raises(CommandError, match=r"^No user named 'ghost'\.$"):
        command("scheduler_list", "--as-user", "ghost")


def test_list_prints_a_table_or_says_there_is_nothing(listed):
    lines = command("scheduler_list").splitlines()
    assert lines[0].split() == ["ID", "NAME", "TASK", "SCHEDULE", "NEXT", "RUN", "STATUS", "LAST"]
    assert len(lines) == 4
    assert any("Paused one" in line and "paused" in line for line in lines)
    assert command("scheduler_list", module="nothing").strip() == "No scheduled tasks."


# -- scheduler_run -------------------------------------------------------------------------


def held_by_another_run(task) -> None:  # noqa: ANN001
    taken, _degraded = locks.acquire_many({task.pk: 600}, "another scheduler")
    assert taken == {task.pk}


def test_run_respects_the_lock_unless_forced(make_task):
    task = make_task(name="Exclusive", cron="0 0 1 1 *")
    held_by_another_run(task)
    with pytest.raises(CommandError, match="its lock is held by another run; use --force"):
        command("scheduler_run", str(task.pk), workers=0)
    assert not Execution.objects.exists()
    out = command("scheduler_run", str(task.pk), workers=0, force=True)
    assert out.startswith(f"#{task.pk} Exclusive: success (")
    assert list(Execution.objects.values_list("task_id", flat=True)) == [task.pk]


def test_run_reports_a_failed_run_and_exits_non_zero(make_task):
    task = make_task("fail", name="Broken", max_retries=0)
    with pytest.raises(CommandError, match=rf"^Task {task.pk} ended failed\.$"):
        command("scheduler_run", str(task.pk), workers=0)
    assert TaskExecutionLog.objects.get(task=task).status == RunStatus.FAILED


def test_run_as_a_user_follows_the_policy(make_task, make_user):
    task = make_task(name="Someone else's")
    make_user(permissions.SCHEDULER, BASE, username="viewer")
    make_user(username="stranger")
    with pytest.raises(CommandError, match=r"^You may not run this task\.$"):
        command("scheduler_run", str(task.pk), "--as-user", "viewer", workers=0)
    with pytest.raises(CommandError, match=r"that you may see\.$"):
        command("scheduler_run", str(task.pk), "--as-user", "stranger", workers=0)
    assert not TaskExecutionLog.objects.exists()


# -- scheduler_crontab ---------------------------------------------------------------------


def test_crontab_prints_one_line_that_runs_this_project_every_minute(tmp_path):
    log = tmp_path / "logs with space" / "scheduler.log"
    result = subprocess.run(
        [sys.executable, "manage.py", "scheduler_crontab", "--log", str(log)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = result.stdout.splitlines()
    assert line.startswith("* * * * * ")
    words = shlex.split(line[len("* * * * * ") :])
    assert words[:3] == ["cd", str(ROOT), "&&"]
    python, manage, *rest = [w for w in words[3:] if "=" not in w]
    assert Path(python).exists() and Path(manage) == ROOT / "manage.py"
    assert rest == ["runscheduler", "--verbosity", "1", ">>", str(log), "2>&1"]


# -- scheduler_prune -----------------------------------------------------------------------


def old_log(task, days: float, status: str = RunStatus.SUCCESS) -> TaskExecutionLog:  # noqa: ANN001
    started = timezone.now() - dt.timedelta(days=days)
    return TaskExecutionLog.objects.create(
        task=task, run_id=uuid.uuid4().hex, scheduled_for=started, started_at=started, status=status
    )


def test_prune_deletes_finished_logs_older_than_days(make_task):
    task = make_task()
    old, recent = old_log(task, 12), old_log(task, 3)
    live = old_log(task, 40, status=RunStatus.RUNNING)
    assert command("scheduler_prune", days=10, dry_run=True).strip() == (
        "1 log row(s) older than 10 day(s) would be deleted."
    )
    assert TaskExecutionLog.objects.count() == 3
    assert command("scheduler_prune", days=10).strip() == (
        "Deleted 1 log row(s) older than 10 day(s)."
    )
    assert set(TaskExecutionLog.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert old.pk not in TaskExecutionLog.objects.values_list("pk", flat=True)


def test_prune_defaults_to_the_retention_setting_and_prunes_heartbeats(make_task, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "LOG_RETENTION_DAYS": 2}
    task = make_task()
    old_log(task, 3)
    kept = old_log(task, 1)
    now = timezone.now()
    SchedulerHeartbeat.objects.create(
        host="h",
        pid=1,
        started_at=now - dt.timedelta(days=30),
        finished_at=now - dt.timedelta(days=30),
    )
    SchedulerHeartbeat.objects.create(host="h", pid=1, started_at=now, finished_at=now)
    assert command("scheduler_prune").splitlines() == [
        "Deleted 1 log row(s) older than 2 day(s).",
        "Deleted 1 scheduler heartbeat(s).",
    ]
    assert list(TaskExecutionLog.objects.values_list("pk", flat=True)) == [kept.pk]
    assert SchedulerHeartbeat.objects.count() == 1


def test_prune_deletes_undelivered_alerts_as_old_as_the_heartbeats_it_deletes(settings):
    # Alerts enqueued while alerts were on, and never sent because they were turned off.
    settings.SCHEDULER = {**settings.SCHEDULER, "HEARTBEAT_RETENTION_DAYS": 7}
    now = timezone.now()
    stale = PendingAlert.objects.create(
        key="failed:1", alert={}, next_attempt_at=now, created_at=now - dt.timedelta(days=8)
    )
    fresh = PendingAlert.objects.create(
        key="failed:2", alert={}, next_attempt_at=now, created_at=now - dt.timedelta(days=6)
    )
    out = command("scheduler_prune").splitlines()
    assert out[-1] == "Deleted 1 undelivered alert(s) older than the heartbeats."
    assert list(PendingAlert.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not PendingAlert.objects.filter(pk=stale.pk).exists()


def test_prune_refuses_negative_days():
    with pytest.raises(CommandError, match=r"^--days must be 0 or more\.$"):
        command("scheduler_prune", days=-1)


# -- runscheduler --check: the lock cache and the providers --------------------------------


def check_lines(capsys) -> tuple[int, list[str]]:  # noqa: ANN001
    err = io.StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command("runscheduler", check=True, stdout=io.StringIO(), stderr=err)
    return excinfo.value.code, err.getvalue().splitlines()


def test_check_names_an_unreachable_lock_cache(settings, capsys):
    settings.CACHES = {
        **settings.CACHES,
        "locks": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        },
    }
    settings.SCHEDULER = {**settings.SCHEDULER, "LOCK_CACHE": "locks"}
    code, lines = check_lines(capsys)
    assert code == 1
    [line] = lines
    assert line.startswith("Lock cache 'locks' unreachable: ")


def test_check_names_a_lock_cache_that_forgets_what_it_is_given(settings, capsys):
    settings.CACHES = {
        **settings.CACHES,
        "locks": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    settings.SCHEDULER = {**settings.SCHEDULER, "LOCK_CACHE": "locks"}
    assert check_lines(capsys) == (1, ["Lock cache: a value written could not be read back."])


def test_check_says_when_no_provider_is_registered(capsys):
    saved = registry.providers()
    registry.clear()
    try:
        code, lines = check_lines(capsys)
    finally:
        for provider in saved:
            registry.register(provider)
    assert code == 1
    assert lines == [
        "No task providers are registered (no scheduler_tasks.py found in INSTALLED_APPS)."
    ]

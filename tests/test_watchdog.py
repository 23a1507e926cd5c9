"""The missed-run watchdog: a stopped scheduler and overdue tasks, with an injected clock."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core import checks
from django.core.management import call_command
from django.urls import reverse

from scheduler_app.checks import check_watchdog
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import ScheduledTask, SchedulerHeartbeat
from scheduler_app.monitoring import health, watchdog

pytestmark = pytest.mark.django_db


def beat(at: dt.datetime, host: str = "web-1", pid: int = 42) -> SchedulerHeartbeat:
    return SchedulerHeartbeat.objects.create(
        host=host, pid=pid, started_at=at - dt.timedelta(seconds=1), finished_at=at
    )


def due_at(task: ScheduledTask, when: dt.datetime, **fields) -> ScheduledTask:
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=when, occurrence_at=when, **fields)
    task.refresh_from_db()
    return task


@pytest.fixture
def clock() -> dt.datetime:
    # 02:17 in Berlin (CEST, UTC+2).
    return dt.datetime(2026, 6, 2, 0, 17, tzinfo=dt.UTC)


# -- a stopped scheduler ---------------------------------------------------------


def test_a_recent_pass_is_healthy(clock):
    beat(clock - dt.timedelta(seconds=30))
    status = watchdog.status(clock)
    assert status.healthy and not status.silent and status.lines() == []
    assert status.last_pass.host == "web-1"


def test_no_pass_for_longer_than_the_silence_limit_is_a_silent_scheduler(clock, settings):
    beat(clock - dt.timedelta(minutes=10), host="sched-a", pid=7)
    beat(clock - dt.timedelta(minutes=42))
    status = watchdog.status(clock)
    assert status.silent and not status.healthy
    assert status.silent_for == dt.timedelta(minutes=10)
    line = status.silence_line()
    assert "No scheduler pass for 10 minutes" in line and "sched-a, pid 7" in line
    assert "at least every 5 minutes" in line
    settings.SCHEDULER = {**settings.SCHEDULER, "WATCHDOG_SILENCE": 3600}
    assert watchdog.status(clock).healthy


def test_the_watchdog_sees_a_scheduler_stop_as_the_clock_moves_on(make_task, clock, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    run_pass(PassOptions())
    finished = SchedulerHeartbeat.objects.get().finished_at
    assert watchdog.status(finished + dt.timedelta(minutes=4)).healthy
    later = watchdog.status(finished + dt.timedelta(minutes=6))
    assert later.silent and later.lines()[0].startswith("No scheduler pass for 6 minutes")


def test_before_the_first_pass_the_scheduler_is_silent_only_once_a_task_waited_too_long(
    make_task, clock
):
    assert watchdog.status(clock).healthy  # fresh install: nothing ran, nothing was due
    task = due_at(make_task(), clock - dt.timedelta(minutes=3))
    assert watchdog.status(clock).healthy
    due_at(task, clock - dt.timedelta(minutes=20))
    status = watchdog.status(clock)
    assert status.silent and "No scheduler pass has been recorded" in status.silence_line()


# -- overdue tasks -----------------------------------------------------------------


def test_a_task_pending_past_its_grace_is_overdue_with_a_readable_line(make_task, clock):
    beat(clock)
    task = due_at(
        make_task(name="Nightly export", timezone="Europe/Berlin"),
        dt.datetime(2026, 6, 2, 0, 0, tzinfo=dt.UTC),
    )
    status = watchdog.status(clock)
    assert [o.task_id for o in status.overdue] == [task.pk]
    assert status.overdue[0].describe(clock) == (
        f"“Nightly export” (#{task.pk}) should have run at Tue, 2026-06-02 02:00 CEST, "
        "still pending at Tue, 2026-06-02 02:17 CEST."
    )
    assert status.lines() == [f"1 task is overdue: {status.overdue[0].describe(clock)}"]


def test_overdue_uses_the_default_grace_or_the_tasks_own(make_task, clock, settings):
    beat(clock)
    five_late = due_at(make_task(name="five"), clock - dt.timedelta(minutes=5))
    own_grace = due_at(make_task(name="own"), clock - dt.timedelta(minutes=5), misfire_grace=120)
    tiny_grace = due_at(make_task(name="tiny"), clock - dt.timedelta(seconds=30), misfire_grace=0)
    overdue = [o.task_id for o in watchdog.status(clock).overdue]
    assert overdue == [own_grace.pk]  # 5 min < 10 min default; 5 min > 2 min; 30 s < the floor
    settings.SCHEDULER = {**settings.SCHEDULER, "OVERDUE_GRACE": 240}
    overdue = {o.task_id for o in watchdog.status(clock).overdue}
    assert overdue == {five_late.pk, own_grace.pk}
    assert tiny_grace.pk not in overdue


def test_paused_disabled_and_running_tasks_are_not_overdue(make_task, clock):
    beat(clock)
    old = clock - dt.timedelta(hours=2)
    due_at(make_task(), old, status="paused")
    due_at(make_task(), old, enabled=False)
    due_at(make_task(), old, status="running")
    assert watchdog.status(clock).overdue == []


def test_the_overdue_list_is_bounded_and_says_there_are_more(
    make_task, clock, django_assert_num_queries
):
    beat(clock)
    for n in range(5):
        due_at(make_task(name=f"t{n}"), clock - dt.timedelta(hours=1, minutes=n))
    with django_assert_num_queries(2):  # the newest heartbeat, the overdue tasks
        status = watchdog.status(clock, limit=3)
    assert len(status.overdue) == 3 and status.more_overdue
    assert [o.name for o in status.overdue] == ["t4", "t3", "t2"]  # most overdue first
    assert status.overdue_line().startswith("3+ tasks are overdue")


def test_the_overdue_list_can_be_narrowed_to_the_tasks_a_user_sees(make_task, clock):
    beat(clock)
    mine = due_at(make_task(name="mine"), clock - dt.timedelta(hours=1))
    due_at(make_task(name="other"), clock - dt.timedelta(hours=1))
    status = watchdog.status(clock, tasks=ScheduledTask.objects.filter(pk=mine.pk))
    assert [o.task_id for o in status.overdue] == [mine.pk]


# -- where it is reported: check, runscheduler --check, dashboard, command -------------


def test_the_system_check_reports_only_when_asked_to_read_the_database(make_task, clock):
    beat(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    due_at(make_task(), dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert check_watchdog(databases=None) == []
    assert not [m for m in checks.run_checks() if m.id.startswith("scheduler_app.W02")]
    found = {m.id: m for m in check_watchdog(databases=["default"])}
    assert set(found) == {"scheduler_app.W020", "scheduler_app.W021"}
    assert found["scheduler_app.W020"].hint and found["scheduler_app.W021"].level == checks.WARNING


def test_runscheduler_check_fails_with_one_readable_line_per_finding(make_task, clock):
    beat(clock - dt.timedelta(minutes=30))
    due_at(make_task(name="Export"), clock - dt.timedelta(minutes=20))
    lines = health.problems(clock)
    watchdog_lines = [line for line in lines if "pass" in line or "overdue" in line]
    assert len(watchdog_lines) == 2
    assert watchdog_lines[0].startswith("No scheduler pass for 30 minutes")
    assert "“Export”" in watchdog_lines[1] and "\n" not in "".join(watchdog_lines)


def test_runscheduler_check_exits_non_zero_when_the_scheduler_is_silent(make_task):
    beat(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("runscheduler", "--check", stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert "No scheduler pass for" in err.getvalue()


def test_runscheduler_check_passes_right_after_a_pass(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    run_pass(PassOptions())
    out = StringIO()
    call_command("runscheduler", "--check", stdout=out, stderr=StringIO())
    assert "Scheduler check passed." in out.getvalue()


def test_the_watchdog_command_prints_json_and_exits_by_health(make_task):
    beat(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("scheduler_watchdog", "--json", stdout=out, stderr=StringIO())
    payload = json.loads(out.getvalue())
    assert payload["status"] == "unhealthy" and payload["scheduler"]["silent"] is True
    SchedulerHeartbeat.objects.create(
        host="h", pid=1, started_at=dt.datetime.now(dt.UTC), finished_at=dt.datetime.now(dt.UTC)
    )
    out = StringIO()
    call_command("scheduler_watchdog", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("Scheduler healthy: last pass")


def test_the_dashboard_shows_a_silent_scheduler_and_overdue_tasks(client, make_user, make_task):
    admin = make_user(is_superuser=True, is_staff=True)
    beat(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), host="old-host")
    task = due_at(make_task(name="Late one"), dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    client.force_login(admin)
    response = client.get(reverse("admin:scheduler_app_scheduledtask_dashboard"))
    html = response.content.decode()
    assert 'id="watchdog" data-healthy="false"' in html
    assert "old-host" in html and "“Late one”" in html
    assert f'data-task="{task.pk}"' in html
    SchedulerHeartbeat.objects.create(
        host="new-host",
        pid=1,
        started_at=dt.datetime.now(dt.UTC),
        finished_at=dt.datetime.now(dt.UTC),
    )
    ScheduledTask.objects.filter(pk=task.pk).update(status="paused")
    html = client.get(reverse("admin:scheduler_app_scheduledtask_dashboard")).content.decode()
    assert 'data-healthy="true"' in html and "new-host" in html

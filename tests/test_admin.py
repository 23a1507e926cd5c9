"""The global scheduler view in the admin: listing, filters, actions, task page, dashboard."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog, TaskStatus

CHANGELIST = "admin:scheduler_app_scheduledtask_changelist"
MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


def change_url(task):
    return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])


def add_log(task, *, minutes_ago=1, status=RunStatus.SUCCESS, duration=1.0, **fields):
    started = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return TaskExecutionLog.objects.create(
        task=task,
        run_id=uuid.uuid4().hex,
        scheduled_for=started,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=duration or 0),
        status=status,
        duration=duration,
        **fields,
    )


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_user(make_user):
    return make_user(is_staff=True, is_superuser=True, username="root")


@pytest.fixture
def module_user(make_user):
    return make_user(*MODULE_PERMS, is_staff=True, username="modder")


@pytest.fixture
def admin_client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_changelist_lists_only_tasks_the_policy_lets_the_user_see(
    make_user, make_task, admin_client_for
):
    owner = make_user("scheduler_app.SA_SCHEDULER", is_staff=True)
    other = make_user("scheduler_app.SA_SCHEDULER", is_staff=True)
    mine = make_task(name="mine", owner=owner)
    make_task(name="theirs", owner=other)
    response = admin_client_for(owner).get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_module_user_sees_every_task_of_the_module(
    module_user, make_user, make_task, admin_client_for
):
    make_task(name="a", owner=make_user())
    make_task(name="b")
    response = admin_client_for(module_user).get(reverse(CHANGELIST))
    assert {t.name for t in response.context["cl"].result_list} == {"a", "b"}


def test_changelist_shows_schedule_next_run_and_last_run_badge(
    admin_user, make_task, admin_client_for
):
    task = make_task(name="Nightly export", cron="0 6 * * 1-5", timezone="Europe/Berlin")
    ScheduledTask.objects.filter(pk=task.pk).update(
        last_run=timezone.now(), last_status=RunStatus.FAILED
    )
    html = admin_client_for(admin_user).get(reverse(CHANGELIST)).content.decode()
    assert "Nightly export" in html
    assert "Test module" in html and "Record an execution" in html
    assert "Europe/Berlin" in html and "06:00" in html
    assert "in " in html
    assert "sched-badge sched-badge-failed" in html


def test_changelist_filters_by_module_status_tag_and_search(
    admin_user, make_user, make_task, admin_client_for
):
    owner = make_user()
    nightly = make_task(name="nightly one", tags=["nightly"], owner=owner)
    paused = make_task(name="paused one")
    ScheduledTask.objects.filter(pk=paused.pk).update(status=TaskStatus.PAUSED)
    client = admin_client_for(admin_user)

    def names(**params):
        response = client.get(reverse(CHANGELIST), params)
        assert response.status_code == 200
        return {t.name for t in response.context["cl"].result_list}

    assert names(module="testmod") == {"nightly one", "paused one"}
    assert names(module="nope") == set()
    assert names(status__exact="paused") == {"paused one"}
    assert names(tag="nightly") == {"nightly one"}
    assert names(q="nightly") == {"nightly one"}
    assert names(task_type="testmod.record") == {"nightly one", "paused one"}
    assert names(schedule_type__exact="cron", enabled__exact="1") == {"nightly one", "paused one"}
    assert names(owner=str(owner.pk)) == {"nightly one"}
    assert names(owner="x") == set()
    assert nightly.pk


def _action(client, action, *tasks, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [t.pk for t in tasks], **extra},
        follow=True,
    )


def test_pause_and_resume_actions_report_what_they_did(module_user, make_task, admin_client_for):
    task = make_task(name="mine", user=module_user)
    client = admin_client_for(module_user)
    response = _action(client, "pause_tasks", task)
    assert any("Paused 1 task" in m and "mine" in m for m in messages_of(response))
    task.refresh_from_db()
    assert task.status == TaskStatus.PAUSED
    response = _action(client, "resume_tasks", task)
    assert any("Resumed 1 task" in m for m in messages_of(response))
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_actions_skip_tasks_the_user_may_only_view(
    module_user, make_user, make_task, admin_client_for
):
    mine = make_task(name="mine", user=module_user)
    theirs = make_task(name="theirs", owner=make_user())
    response = _action(admin_client_for(module_user), "cancel_tasks", mine, theirs, post="yes")
    texts = messages_of(response)
    assert any("Ended the schedule of 1 task" in m and "mine" in m for m in texts)
    assert any("Skipped “theirs”" in m and "may not cancel" in m for m in texts)
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.status == TaskStatus.PENDING
    assert mine.status == TaskStatus.CANCELLED


def test_run_now_makes_the_task_due(admin_user, make_task, admin_client_for):
    task = make_task(name="later", cron="0 0 1 1 *")
    response = _action(admin_client_for(admin_user), "run_tasks_now", task)
    assert any("next scheduler pass" in m for m in messages_of(response))
    task.refresh_from_db()
    assert task.next_run <= timezone.now()


def test_invalid_transition_is_reported_not_raised(admin_user, make_task, admin_client_for):
    task = make_task(name="not paused")
    response = _action(admin_client_for(admin_user), "resume_tasks", task)
    assert response.status_code == 200
    assert any("Skipped “not paused”" in m and "paused" in m for m in messages_of(response))


def test_task_page_buttons_run_one_action(module_user, make_task, admin_client_for):
    task = make_task(name="mine", user=module_user)
    client = admin_client_for(module_user)
    url = reverse("admin:scheduler_app_scheduledtask_action", args=[task.pk, "pause"])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == change_url(task)
    task.refresh_from_db()
    assert task.status == TaskStatus.PAUSED


def test_change_form_never_offers_module_type_owner_or_system_flag(
    admin_user, make_task, admin_client_for
):
    task = make_task(name="t")
    response = admin_client_for(admin_user).get(change_url(task))
    form = response.context["adminform"].form
    for field in ("module_id", "task_type", "owner", "is_system", "config", "status"):
        assert field not in form.fields
    assert "cron_expression" in form.fields


def _change_data(task, **overrides):
    data = {
        "name": task.name,
        "enabled": "on",
        "schedule_type": task.schedule_type,
        "cron_expression": task.cron_expression,
        "run_at_0": "",
        "run_at_1": "",
        "interval_every": "",
        "interval_unit": "",
        "event_name": "",
        "timezone": task.timezone,
        "priority": task.priority,
        "max_retries": task.max_retries,
        "timeout": task.timeout,
        "misfire_policy": task.misfire_policy,
        "misfire_grace": "",
        "tags": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_change_form_saves_through_the_services(admin_user, make_task, admin_client_for):
    task = make_task(name="t", cron="0 6 * * *")
    data = _change_data(
        task, cron_expression="30 7 * * *", owner="1", module_id="evil", is_system="on", tags="a, b"
    )
    response = admin_client_for(admin_user).post(change_url(task), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.cron_expression == "30 7 * * *"
    assert (task.next_run.hour, task.next_run.minute) == (7, 30)
    assert task.module_id == "testmod" and not task.is_system and task.owner is None
    assert task.tags == ["a", "b"]
    assert task.updated_by == admin_user


def test_change_form_shows_bad_cron_as_a_field_error(admin_user, make_task, admin_client_for):
    task = make_task(name="t", cron="0 6 * * *")
    response = admin_client_for(admin_user).post(
        change_url(task), _change_data(task, cron_expression="61 * * * *")
    )
    assert response.status_code == 200
    assert "cron_expression" in response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.cron_expression == "0 6 * * *"


def test_system_tasks_cannot_be_deleted(admin_user, make_task, admin_client_for):
    task = make_task(name="system", is_system=True)
    client = admin_client_for(admin_user)
    delete_url = reverse("admin:scheduler_app_scheduledtask_delete", args=[task.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [task.pk], "post": "yes"},
    )
    assert ScheduledTask.objects.filter(pk=task.pk).exists()
    assert response.status_code in (200, 302, 403)


def test_owner_deletes_own_task(module_user, make_task, admin_client_for):
    task = make_task(name="mine", user=module_user)
    delete_url = reverse("admin:scheduler_app_scheduledtask_delete", args=[task.pk])
    response = admin_client_for(module_user).post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not ScheduledTask.objects.filter(pk=task.pk).exists()


def test_task_of_another_user_is_not_found(make_user, make_task, admin_client_for):
    user = make_user("scheduler_app.SA_SCHEDULER", is_staff=True)
    task = make_task(name="hidden", owner=make_user())
    client = admin_client_for(user)
    response = client.get(change_url(task))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    log = add_log(task)
    url = reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk])
    assert client.get(url).status_code == 404


def test_non_staff_users_cannot_open_the_admin(module_user, make_user, client):
    client.force_login(make_user(*MODULE_PERMS))
    assert client.get(reverse(CHANGELIST)).status_code == 302


@time_machine.travel(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_task_page_shows_next_runs_metrics_and_history(admin_user, make_task, admin_client_for):
    # The clock stands at noon: no run of the history starts at 06:00 and adds to the count.
    task = make_task(name="t", cron="0 6 * * *", timezone="Europe/Berlin")
    add_log(task, minutes_ago=30, duration=2.0)
    add_log(task, minutes_ago=10, status=RunStatus.FAILED, duration=4.0, error_message="bad thing")
    response = admin_client_for(admin_user).get(change_url(task))
    html = response.content.decode()
    # Five runs, shown in the task's own zone, plus the same next run in the State fields.
    assert html.count("06:00 CE") == 6
    metrics_24h = response.context["task_metrics"][0]
    assert (metrics_24h.runs, metrics_24h.successes) == (2, 1)
    rows = response.context["history"]["rows"]
    assert [r.status for r in rows] == [RunStatus.FAILED, RunStatus.SUCCESS]  # newest first
    assert "bad thing" in html and "50.0 %" in html


def test_history_is_paginated_newest_first(admin_user, make_task, admin_client_for):
    task = make_task(name="t")
    logs = [add_log(task, minutes_ago=n) for n in range(1, 26)]
    client = admin_client_for(admin_user)
    first = client.get(change_url(task)).context["history"]
    assert [r.pk for r in first["rows"]] == [log.pk for log in logs[:20]]
    assert first["older_url"] and not first["newer_url"]
    second = client.get(change_url(task) + first["older_url"]).context["history"]
    assert [r.pk for r in second["rows"]] == [log.pk for log in logs[20:]]
    assert second["newer_url"] and not second["older_url"]


def test_log_detail_shows_traceback_and_output(module_user, make_task, admin_client_for):
    task = make_task(name="t", user=module_user)
    log = add_log(
        task,
        status=RunStatus.FAILED,
        traceback="Traceback (most recent call last):\nRuntimeError: <boom>",
        output="line one\nline two",
        result={"rows": 3},
    )
    url = reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk])
    response = admin_client_for(module_user).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "RuntimeError: &lt;boom&gt;" in html
    assert "line one\nline two" in html
    assert "&quot;rows&quot;: 3" in html


def test_dashboard_lists_failing_and_stale_tasks_and_draws_charts(
    admin_user, make_task, admin_client_for
):
    failing = make_task(name="failing")
    ScheduledTask.objects.filter(pk=failing.pk).update(
        failure_streak=3, last_status="failed", error_message="kaput"
    )
    stale = make_task(name="stale", due=timezone.now() - dt.timedelta(hours=2))
    make_task(name="upcoming", cron="0 0 1 1 *")
    add_log(failing, status=RunStatus.FAILED, duration=3)
    add_log(stale, duration=1)
    response = admin_client_for(admin_user).get(
        reverse("admin:scheduler_app_scheduledtask_dashboard")
    )
    assert response.status_code == 200
    context = response.context
    assert [t.name for t in context["failing"]] == ["failing"]
    assert [t.name for t in context["stale"]] == ["stale"]
    assert "upcoming" in [t.name for t in context["upcoming"]]
    assert {s: n for s, _l, n in context["status_counts"]}["pending"] == 3
    html = response.content.decode()
    assert html.count('class="sched-chart"') == 2 and "kaput" in html


def test_dashboard_counts_only_viewable_tasks(make_user, make_task, admin_client_for):
    user = make_user("scheduler_app.SA_SCHEDULER", is_staff=True)
    make_task(name="mine", owner=user)
    hidden = make_task(name="hidden", owner=make_user())
    add_log(hidden)
    response = admin_client_for(user).get(reverse("admin:scheduler_app_scheduledtask_dashboard"))
    assert response.context["total"] == 1
    assert response.context["outcome_charts"] == []


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("as_admin", [True, False])
def test_changelist_query_count_does_not_grow_with_rows(
    as_admin,
    admin_user,
    module_user,
    make_user,
    make_task,
    admin_client_for,
    django_assert_num_queries,
):
    user = admin_user if as_admin else module_user
    client = admin_client_for(user)
    url = reverse(CHANGELIST) + "?o=1"
    make_task(name="first", owner=make_user(), tags=["x"])
    client.get(url)  # warm per-process caches (content types)
    expected = _count_queries(client, url)
    for n in range(29):
        make_task(name=f"task {n}", owner=make_user(), tags=[f"t{n}"])
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 30


def test_task_page_query_count_does_not_grow_with_history(
    admin_user, make_task, admin_client_for, django_assert_num_queries
):
    client = admin_client_for(admin_user)
    task = make_task(name="t")
    add_log(task)
    client.get(change_url(task))
    expected = _count_queries(client, change_url(task))
    for n in range(2, 31):
        add_log(
            task, minutes_ago=n, status=RunStatus.FAILED if n % 3 else RunStatus.SUCCESS, duration=n
        )
    with django_assert_num_queries(expected):
        response = client.get(change_url(task))
    assert len(response.context["history"]["rows"]) == 20


def test_dashboard_query_count_does_not_grow_with_rows(
    admin_user, make_task, admin_client_for, django_assert_num_queries
):
    client = admin_client_for(admin_user)
    url = reverse("admin:scheduler_app_scheduledtask_dashboard")
    task = make_task(name="t0")
    add_log(task)
    client.get(url)
    cache.clear()  # count the queries of a dashboard whose charts are not cached
    expected = _count_queries(client, url)
    for n in range(1, 30):
        other = make_task(name=f"t{n}")
        add_log(other, minutes_ago=n * 60, status=RunStatus.FAILED, duration=n)
        ScheduledTask.objects.filter(pk=other.pk).update(failure_streak=n)
    cache.clear()
    with django_assert_num_queries(expected):
        client.get(url)
    with django_assert_num_queries(expected - 2):  # the chart data comes from the cache
        client.get(url)


def test_dashboard_charts_see_a_new_run_at_once(admin_user, make_task, admin_client_for):
    client = admin_client_for(admin_user)
    url = reverse("admin:scheduler_app_scheduledtask_dashboard")
    task = make_task(name="t0")
    add_log(task)
    first = client.get(url).context["outcome_charts"]
    add_log(task, minutes_ago=2, status=RunStatus.FAILED)
    second = client.get(url).context["outcome_charts"]
    assert "1 failed" not in str(first[0][1]) and "1 failed" in str(second[0][1])

"""Probes of resume on PATCH tasks/{id}/ and the module edit page: every status, odd values."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from scheduler_app.models import ScheduledTask, TaskStatus
from tests.test_update_ended import NOW, _api_owner, ended_task, planning

pytestmark = pytest.mark.django_db

NOT_RESUMABLE = [TaskStatus.PENDING, TaskStatus.PAUSED, TaskStatus.CANCELLED]
if hasattr(TaskStatus, "RUNNING"):
    NOT_RESUMABLE.append(TaskStatus.RUNNING)


@pytest.mark.parametrize("status", NOT_RESUMABLE)
def test_resume_true_on_a_task_that_has_not_ended_well_or_badly_is_400(make_user, settings, status):
    task = ended_task("cron", TaskStatus.FAILED)
    ScheduledTask.objects.filter(pk=task.pk).update(status=status)
    client = _api_owner(make_user, settings, task)
    before = planning(task)
    response = client.patch(f"/api/scheduler/tasks/{task.pk}/", {"resume": True}, format="json")
    assert response.status_code == 400, response.content
    assert "resume" in response.json()["errors"]
    assert planning(task) == before


@pytest.mark.parametrize("value", [None, [], {}, 2, "2", "maybe", 1.5, [True]])
def test_a_resume_that_is_not_a_boolean_is_400_on_the_field(make_user, settings, value):
    task = ended_task("cron", TaskStatus.SUCCESS)
    client = _api_owner(make_user, settings, task)
    before = planning(task)
    response = client.patch(f"/api/scheduler/tasks/{task.pk}/", {"resume": value}, format="json")
    assert response.status_code == 400, response.content
    assert "resume" in response.json()["errors"]
    assert planning(task) == before


@pytest.mark.parametrize("status", [TaskStatus.SUCCESS, TaskStatus.FAILED])
def test_resuming_a_one_time_task_whose_time_has_passed_is_400_and_keeps_it(
    make_user, settings, status
):
    task = ended_task("one_time", status)
    client = _api_owner(make_user, settings, task)
    before = planning(task)
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        response = client.patch(f"/api/scheduler/tasks/{task.pk}/", {"resume": True}, format="json")
    assert response.status_code == 400, response.content
    assert planning(task) == before


@pytest.mark.parametrize("status", [TaskStatus.CANCELLED, TaskStatus.PENDING, TaskStatus.PAUSED])
def test_a_forged_resume_on_the_module_page_does_not_revive_a_task(
    client, make_user, settings, status
):
    task = ended_task("cron", TaskStatus.FAILED)
    ScheduledTask.objects.filter(pk=task.pk).update(status=status)
    user = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    ScheduledTask.objects.filter(pk=task.pk).update(owner=user)
    client.force_login(user)
    page = client.get(reverse("scheduler_app:edit", args=[task.pk]))
    assert page.status_code in (200, 403, 404)
    html = page.content.decode()
    assert 'name="resume"' not in html
    from tests.test_views import post_data

    data = post_data(name="renamed", cron="0 6 * * *", timezone="Europe/Berlin")
    data.update({"config-note": "", "enabled": "on", "resume": "on", "edges-shown": "True"})
    client.post(reverse("scheduler_app:edit", args=[task.pk]), data)
    assert ScheduledTask.objects.get(pk=task.pk).status == status


# --- the admin's change form ----------------------------------------------------------------

from tests.test_admin_save import admin_client, change_url, form_data  # noqa: E402, F401


@pytest.mark.parametrize("status", [TaskStatus.CANCELLED, TaskStatus.PAUSED, TaskStatus.PENDING])
def test_a_forged_resume_in_the_admin_does_not_revive_a_task(admin_client, status):  # noqa: F811
    task = ended_task("cron", TaskStatus.FAILED)
    ScheduledTask.objects.filter(pk=task.pk).update(status=status)
    task.refresh_from_db()
    data = form_data(task, name="renamed", resume="on")
    admin_client.post(change_url(task), data)
    assert ScheduledTask.objects.get(pk=task.pk).status == status


@pytest.mark.parametrize("status", [TaskStatus.SUCCESS, TaskStatus.FAILED])
def test_resuming_a_past_one_time_task_in_the_admin_is_a_form_error(admin_client, status):  # noqa: F811
    task = ended_task("one_time", status)
    before = planning(task)
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        data = form_data(task, resume="on")
        local = task.run_at.astimezone(dt.UTC)
        data.update(run_at_0=local.strftime("%Y-%m-%d"), run_at_1=local.strftime("%H:%M:%S"))
        response = admin_client.post(change_url(task), data)
    assert response.status_code in (200, 400)
    assert response.context["adminform"].form.errors
    assert planning(task) == before


@pytest.mark.parametrize("status", [TaskStatus.SUCCESS, TaskStatus.FAILED])
def test_resuming_a_past_one_time_task_on_the_module_page_is_a_form_error(
    client, make_user, status
):
    from tests.test_views import post_data

    task = ended_task("one_time", status)
    user = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    ScheduledTask.objects.filter(pk=task.pk).update(owner=user)
    before = planning(task)
    client.force_login(user)
    run_at = task.run_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    data = post_data(name=task.name, schedule_type="one_time", run_at=run_at, cron="")
    data.update({"timezone": "UTC", "config-note": "", "enabled": "on", "resume": "on"})
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        response = client.post(reverse("scheduler_app:edit", args=[task.pk]), data)
    assert response.status_code == 400, response.status_code
    assert "errorlist" in response.content.decode()
    assert planning(task) == before


def test_an_overdue_one_time_task_edited_with_a_mistake_re_shows_the_form(client, make_user):
    from tests.test_views import post_data

    task = ended_task("one_time", TaskStatus.SUCCESS)
    ScheduledTask.objects.filter(pk=task.pk).update(status=TaskStatus.PENDING)
    user = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    ScheduledTask.objects.filter(pk=task.pk).update(owner=user)
    client.force_login(user)
    run_at = task.run_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    data = post_data(name=task.name, schedule_type="one_time", run_at=run_at, cron="")
    data.update({"timezone": "UTC", "config-note": "", "enabled": "on", "priority": "abc"})
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        response = client.post(reverse("scheduler_app:edit", args=[task.pk]), data)
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


@pytest.mark.parametrize("status", [TaskStatus.PENDING, TaskStatus.SUCCESS])
def test_an_overdue_one_time_task_reads_on_every_page(client, make_user, settings, status):
    task = ended_task("one_time", TaskStatus.SUCCESS)
    ScheduledTask.objects.filter(pk=task.pk).update(status=status)
    api = _api_owner(make_user, settings, task)
    owner = ScheduledTask.objects.get(pk=task.pk).owner
    client.force_login(owner)
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        assert api.get(f"/api/scheduler/tasks/{task.pk}/").status_code == 200
        assert api.get("/api/scheduler/tasks/").status_code == 200
        assert client.get(reverse("scheduler_app:edit", args=[task.pk])).status_code == 200
        admin_url = reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
        assert client.get(admin_url).status_code in (200, 302)
        assert client.get(reverse("scheduler_app:pages")).status_code == 200

"""The scheduling form: bad input becomes field errors, good input goes through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from scheduler_app.forms import TaskScheduleForm
from scheduler_app.models import ScheduledTask

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


@pytest.fixture
def user(make_user):
    return make_user(*PERMS)


def form_data(**overrides):
    data = {
        "name": "",
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "run_at": "",
        "interval_every": "",
        "interval_unit": "hours",
        "event": "",
        "timezone": "UTC",
        "priority": "5",
        "max_retries": "",
        "timeout": "",
        "tags": "",
        "config-note": "hello",
        "config-sleep": "",
    }
    data.update(overrides)
    return data


def submit(user, instance=None, **overrides):
    form = TaskScheduleForm(
        "testmod", "record", user=user, data=form_data(**overrides), instance=instance
    )
    return form, form.save()


def test_valid_form_schedules_the_task_with_its_config(user):
    form, task = submit(user, name="Morning", tags="daily, ops")
    assert task is not None, [f.errors for f in form.forms]
    assert task.owner == user and task.name == "Morning"
    assert task.config == {"note": "hello", "sleep": None}
    assert task.tags == ["daily", "ops"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cron": "0 25 * * *"}, "cron"),
        ({"cron": "every day"}, "cron"),
        ({"cron": ""}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"schedule_type": "one_time", "run_at": "2001-01-01T10:00"}, "run_at"),
        ({"schedule_type": "one_time", "run_at": "tomorrow"}, "run_at"),
        ({"schedule_type": "recurring", "interval_every": ""}, "interval_every"),
        ({"schedule_type": "recurring", "interval_every": "0"}, "interval_every"),
        ({"schedule_type": "event", "event": ""}, "event"),
        ({"priority": "11"}, "priority"),
        ({"tags": "Not A Tag!"}, "tags"),
    ],
)
def test_bad_schedule_input_is_a_field_error_and_nothing_is_saved(user, overrides, field):
    form, task = submit(user, **overrides)
    assert task is None
    assert field in form.options.errors
    assert not ScheduledTask.objects.exists()


def test_bad_config_is_an_error_on_the_config_field(user):
    form, task = submit(user, **{"config-sleep": "-1"})
    assert task is None
    assert "sleep" in form.config.errors
    assert not ScheduledTask.objects.exists()


def test_run_at_is_read_in_the_chosen_time_zone(user):
    when = timezone.now().astimezone(dt.UTC) + dt.timedelta(days=3)
    local = when.astimezone(dt.timezone(dt.timedelta(hours=0)))
    form, task = submit(
        user,
        schedule_type="one_time",
        timezone="Asia/Tokyo",
        run_at=local.strftime("%Y-%m-%dT10:00"),
    )
    assert task is not None, form.options.errors
    tokyo = task.run_at.astimezone(task.schedule.zone)
    assert (tokyo.hour, tokyo.minute, tokyo.utcoffset()) == (10, 0, dt.timedelta(hours=9))


def test_user_without_permission_gets_a_form_error_not_a_crash(make_user):
    outsider = make_user("scheduler_app.SA_SCHEDULER")
    form = TaskScheduleForm("testmod", "record", user=outsider, data=form_data())
    assert form.save() is None
    assert "may not schedule" in " ".join(form.non_field_errors)


def test_edit_form_starts_from_the_task_and_changes_only_what_changed(user, make_task):
    task = make_task(
        user=user,
        name="Edit me",
        cron="0 6 * * *",
        timezone="Europe/Berlin",
        config={"note": "old"},
        tags=["keep"],
    )
    form = TaskScheduleForm("testmod", "record", user=user, instance=task)
    assert form.options["cron"].value() == "0 6 * * *"
    assert form.config["note"].value() == "old"
    data = form_data(
        name="Edit me",
        cron="0 6 * * *",
        timezone="Europe/Berlin",
        tags="keep",
        max_retries=str(task.max_retries),
        timeout=str(task.timeout),
        enabled="on",
        **{"config-note": "new"},
    )
    form = TaskScheduleForm("testmod", "record", user=user, data=data, instance=task)
    assert form.is_valid()
    assert set(form.changes()) == {"config"}
    saved = form.save()
    assert saved is not None
    task.refresh_from_db()
    assert task.config["note"] == "new"


def test_editing_an_unchanged_past_one_time_task_keeps_its_schedule(user, make_task):
    task = make_task(
        user=user,
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(hours=1),
    )
    ScheduledTask.objects.filter(pk=task.pk).update(run_at=timezone.now() - dt.timedelta(days=1))
    task.refresh_from_db()
    data = form_data(
        name="renamed",
        schedule_type="one_time",
        cron="",
        run_at=task.run_at.strftime("%Y-%m-%dT%H:%M"),
        max_retries=str(task.max_retries),
        timeout=str(task.timeout),
        enabled="on",
        **{"config-note": ""},
    )
    form = TaskScheduleForm("testmod", "record", user=user, data=data, instance=task)
    assert form.save() is not None, form.options.errors
    task.refresh_from_db()
    assert task.name == "renamed"


def test_view_only_user_cannot_edit_through_the_form(make_user, make_task):
    viewer = make_user(*PERMS)
    task = make_task(name="theirs", owner=make_user())
    form = TaskScheduleForm(
        "testmod", "record", user=viewer, instance=task, data=form_data(name="hijacked")
    )
    assert form.save() is None
    assert "may not edit" in " ".join(form.non_field_errors)
    task.refresh_from_db()
    assert task.name == "theirs"

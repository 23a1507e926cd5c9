"""Duplicate schedules and same-minute tasks: the scheduling form's warning and the task pages.

The form warns (and saves once confirmed) when a schedule repeats a task of the same
module, type and config, or fires in the same minute as one; the task pages list
the other tasks of their module running in their minute. Only tasks the person may
view are named; the others are counted.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scheduler_app import services
from scheduler_app.forms import TaskScheduleForm
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import overlap_warning
from tests.test_forms import PERMS, form_data  # the scheduling form's one post

NEW = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})


@pytest.fixture
def user(make_user):
    return make_user(*PERMS)


def submit(user, instance=None, **overrides):
    if instance is not None:  # an edit posts every option back
        overrides = {"max_retries": "3", "timeout": "300", "enabled": "on", **overrides}
    form = TaskScheduleForm(
        "testmod", "record", user=user, data=form_data(**overrides), instance=instance
    )
    return form, form.save()


def existing(make_task, owner, name="Existing", **kwargs):
    kwargs.setdefault("cron", "0 6 * * *")
    kwargs.setdefault("timezone", "UTC")
    kwargs.setdefault("config", {"note": "hello"})
    return make_task(owner=owner, name=name, **kwargs)


def listed(html: str, kind: str) -> list[int]:
    block = re.search(rf'data-kind="{kind}">(.*?)</ul>', html, re.S)
    return [int(pk) for pk in re.findall(r'data-task="(\d+)"', block[1])] if block else []


# --- the form -------------------------------------------------------------------------------


def test_a_repeated_schedule_is_not_saved_until_confirmed(user, make_task):
    first = existing(make_task, user)
    form, task = submit(user)
    assert task is None
    assert not form.options.errors and not form.config.errors  # a warning, not an error
    assert [item.task.pk for item in form.overlaps.duplicates] == [first.pk]
    assert ScheduledTask.objects.count() == 1
    form, task = submit(user, confirm_overlaps="1")
    assert task is not None and form.overlaps is None
    assert ScheduledTask.objects.count() == 2


@pytest.mark.parametrize(
    "change",
    [{"config-note": "other"}, {"timezone": "Europe/Berlin"}],
    ids=["another config", "another zone (another minute)"],
)
def test_other_configs_and_other_minutes_are_no_overlap(user, make_task, change):
    existing(make_task, user)
    form, task = submit(user, **change)
    assert task is not None and form.overlaps is None


def test_another_type_or_a_cancelled_task_is_no_overlap(user, make_task):
    existing(make_task, user, task_type="noop")
    services.cancel(existing(make_task, user), user=None)
    form, task = submit(user)
    assert task is not None and form.overlaps is None


def test_a_task_firing_in_the_same_minute_with_the_same_config_is_listed(user, make_task):
    # Another schedule (every day vs one day) whose next run is the same minute.
    other = existing(make_task, user, cron="0 6 * * *")
    at = other.next_run.astimezone(dt.UTC).replace(tzinfo=None)
    form, task = submit(user, schedule_type="one_time", cron="", run_at=f"{at:%Y-%m-%dT%H:%M}")
    assert task is None
    assert form.overlaps.duplicates == []
    assert [item.task.pk for item in form.overlaps.same_minute] == [other.pk]
    assert form.overlaps.first_run == other.next_run


def test_a_paused_task_does_not_count_as_firing_in_the_minute(user, make_task):
    other = existing(make_task, user)
    services.pause(other, user=None)
    at = other.next_run.astimezone(dt.UTC).replace(tzinfo=None)
    form, task = submit(user, schedule_type="one_time", cron="", run_at=f"{at:%Y-%m-%dT%H:%M}")
    assert task is not None and form.overlaps is None


def test_an_edit_is_checked_only_when_schedule_or_config_change(user, make_task):
    first = existing(make_task, user)
    mine = existing(make_task, user, name="Mine", cron="0 7 * * *")
    # Renaming leaves schedule and config alone: no warning.
    form, task = submit(user, instance=mine, name="Renamed", cron="0 7 * * *")
    assert task is not None and form.overlaps is None
    # Moving it onto the other task's schedule warns, naming that task and not itself.
    form, task = submit(user, instance=mine, name="Renamed", cron="0 6 * * *")
    assert task is None
    assert [item.task.pk for item in form.overlaps.duplicates] == [first.pk]
    mine.refresh_from_db()
    assert mine.cron_expression == "0 7 * * *"


def test_the_module_page_shows_the_warning_and_saves_once_confirmed(client, user, make_task):
    first = existing(make_task, user, name="Morning report")
    client.force_login(user)
    response = client.post(NEW, form_data(name="Again"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="overlap-warning"' in html and 'name="confirm_overlaps"' in html
    assert listed(html, "duplicate") == [first.pk]
    assert "Morning report" in html
    assert not ScheduledTask.objects.filter(name="Again").exists()
    response = client.post(NEW, form_data(name="Again", confirm_overlaps="1"))
    assert response.status_code == 302
    assert ScheduledTask.objects.filter(name="Again").count() == 1


def test_the_warning_names_only_tasks_the_user_may_view_and_counts_the_others(
    client, make_user, make_task
):
    owner = make_user(*PERMS, username="owner")
    guest = make_user("scheduler_app.SA_SCHEDULER", username="guest")  # no module permission
    shared = existing(make_task, owner, name="Shared with guest", cron="0 7 * * *")
    services.share(shared, user=owner, users=[guest], permissions=["change"])
    hidden = existing(make_task, owner, name="Secret schedule")
    own = existing(make_task, guest, name="Guest's own")
    client.force_login(guest)
    url = reverse("scheduler_app:edit", args=[shared.pk])
    response = client.post(url, form_data(name="Shared with guest", cron="0 6 * * *"))
    html = response.content.decode()
    assert response.status_code == 200
    assert listed(html, "duplicate") == [own.pk]
    assert 'data-hidden="1"' in html
    assert "Secret schedule" not in html and f'data-task="{hidden.pk}"' not in html
    shared.refresh_from_db()
    assert shared.cron_expression == "0 7 * * *"


# --- the task pages ---------------------------------------------------------------------------


def test_the_admin_task_page_lists_the_other_tasks_of_its_minute(client, make_user, make_task):
    admin_user = make_user(*PERMS, is_staff=True)
    task = existing(make_task, admin_user, name="This one", config={"note": "a"})
    same = existing(make_task, admin_user, name="Same minute", config={"note": "b"})
    existing(make_task, admin_user, name="Next minute", cron="1 6 * * *")
    client.force_login(admin_user)
    response = client.get(reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    section = re.search(r'id="same-minute">(.*?)</fieldset>', html, re.S)[1]
    assert re.findall(r'data-task="(\d+)"', section) == [str(same.pk)]
    assert reverse("admin:scheduler_app_scheduledtask_change", args=[same.pk]) in section
    assert "Next minute" not in section and "data-hidden" not in section


def test_the_task_pages_count_tasks_the_user_may_not_view_without_naming_them(
    client, make_user, make_task
):
    owner = make_user(*PERMS, username="owner")
    guest = make_user("scheduler_app.SA_SCHEDULER", username="guest", is_staff=True)
    task = existing(make_task, owner, name="Shared")
    services.share(task, user=owner, users=[guest], permissions=["change"])
    own = existing(make_task, guest, name="Guest's own", config={"note": "x"})
    for n in range(2):
        existing(make_task, owner, name=f"Secret {n}", config={"note": str(n)})
    client.force_login(guest)
    for url in (
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]),
        reverse("scheduler_app:edit", args=[task.pk]),
    ):
        html = client.get(url).content.decode()
        section = re.search(r'id="same-minute">(.*?)</fieldset>', html, re.S)[1]
        assert re.findall(r'data-task="(\d+)"', section) == [str(own.pk)], url
        assert 'data-hidden="2"' in section, url
        assert "Secret" not in section, url


def test_the_same_minute_list_costs_the_same_queries_for_few_and_many_tasks(make_user, make_task):
    owner = make_user(*PERMS, username="owner")
    guest = make_user("scheduler_app.SA_SCHEDULER", username="guest")
    task = existing(make_task, owner, name="Shared")
    services.share(task, user=owner, users=[guest], permissions=["change"])

    def queries() -> int:
        for who in (owner, guest):
            who.__dict__.pop("_perm_cache", None)
        with CaptureQueriesContext(connection) as ctx:
            overlap_warning.same_minute_listing(task, guest)
        return len(ctx.captured_queries)

    existing(make_task, guest, name="Own", config={"note": "own"})
    few = queries()
    for n in range(25):
        existing(make_task, guest, name=f"Own {n}", config={"note": f"own {n}"})
        existing(make_task, owner, name=f"Other {n}", config={"note": f"other {n}"})
    listing = overlap_warning.same_minute_listing(task, guest)
    assert len(listing.items) == overlap_warning.LIMIT and listing.hidden == 25
    assert queries() <= few + 1  # one more count once the list is full


def test_the_warning_speaks_german(client, user, make_task):
    existing(make_task, user)
    client.force_login(user)
    html = client.post(NEW, form_data(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Trotzdem planen" in html
    assert "Gleicher Aufgabentyp, gleiche Konfiguration und gleicher Zeitplan" in html


def test_a_long_list_is_cut_and_says_how_many_more(user, make_task):
    for n in range(overlap_warning.LIMIT + 3):
        existing(make_task, user, name=f"Copy {n}")
    form, task = submit(user)
    assert task is None
    assert len(form.overlaps.duplicates) == overlap_warning.LIMIT
    assert form.overlaps.more == 3 and form.overlaps.hidden == 0

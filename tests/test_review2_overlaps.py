"""Probes of the duplicate-schedule warning: other schedule types, hidden tasks, forged confirms."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from scheduler_app import services
from scheduler_app.models import ScheduledTask
from tests.test_overlap_warning import PERMS, existing, form_data, listed

NEW = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
RUN_AT = NOW + dt.timedelta(days=1)

SCHEDULES = {
    "event": (
        {"schedule_type": "event", "event": "order.paid", "cron": None},
        {"schedule_type": "event", "event": "order.paid", "cron": ""},
    ),
    "recurring": (
        {"schedule_type": "recurring", "interval": (90, "minutes"), "cron": None},
        {
            "schedule_type": "recurring",
            "interval_every": "90",
            "interval_unit": "minutes",
            "cron": "",
        },
    ),
    "one_time": (
        {"schedule_type": "one_time", "run_at": RUN_AT, "cron": None},
        {"schedule_type": "one_time", "run_at": "2026-06-02 12:00", "cron": ""},
    ),
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_other_schedule_types_warn_and_name_only_viewable_tasks(client, make_user, make_task, kind):
    stored, posted = SCHEDULES[kind]
    owner = make_user(*PERMS, username="owner")
    guest = make_user("scheduler_app.SA_SCHEDULER", username="guest")
    shared = existing(make_task, owner, name="Shared", cron="0 7 * * *")
    services.share(shared, user=owner, users=[guest], permissions=["change"])
    hidden = existing(make_task, owner, name="Secret plan", **stored)
    own = existing(make_task, guest, name="Guest's own", **stored)
    client.force_login(guest)
    url = reverse("scheduler_app:edit", args=[shared.pk])
    response = client.post(url, form_data(name="Shared", **posted))
    html = response.content.decode()
    assert response.status_code == 200, html
    assert 'id="overlap-warning"' in html, kind
    assert own.pk in listed(html, "duplicate") + listed(html, "same-minute")
    assert "Secret plan" not in html and f"#{hidden.pk})" not in html
    assert f"/{hidden.pk}/" not in html
    assert 'data-hidden="1"' in html
    shared.refresh_from_db()
    assert shared.schedule_type == "cron"


@pytest.mark.parametrize("value", ["0", "no", "false", "", "ON", "2", "1 "])
def test_only_a_ticked_box_confirms(client, make_user, make_task, value):
    user = make_user(*PERMS)
    existing(make_task, user, name="Morning report")
    client.force_login(user)
    response = client.post(NEW, form_data(name="Again", confirm_overlaps=value))
    assert response.status_code == 200
    assert not ScheduledTask.objects.filter(name="Again").exists()


def test_a_confirmed_post_without_overlaps_saves(client, make_user):
    user = make_user(*PERMS)
    client.force_login(user)
    response = client.post(NEW, form_data(name="Alone", confirm_overlaps="1"))
    assert response.status_code == 302
    assert ScheduledTask.objects.filter(name="Alone").count() == 1


# --- the admin's change form ------------------------------------------------------------------

ADMIN_POSTED = {
    "event": {"schedule_type": "event", "event_name": "order.paid", "cron_expression": ""},
    "recurring": {
        "schedule_type": "recurring",
        "interval_every": "90",
        "interval_unit": "minutes",
        "cron_expression": "",
    },
    "one_time": {
        "schedule_type": "one_time",
        "run_at_0": "2026-06-02",
        "run_at_1": "12:00:00",
        "cron_expression": "",
    },
}


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_the_admin_warns_for_other_schedule_types_naming_only_viewable_tasks(
    client, make_user, make_task, kind
):
    from tests.test_admin_save import change_url
    from tests.test_admin_save import form_data as admin_form

    stored, _ = SCHEDULES[kind]
    owner = make_user(*PERMS, username="owner")
    guest = make_user("scheduler_app.SA_SCHEDULER", username="guest", is_staff=True)
    shared = existing(make_task, owner, name="Shared", cron="0 7 * * *")
    services.share(shared, user=owner, users=[guest], permissions=["change"])
    hidden = existing(make_task, owner, name="Secret plan", **stored)
    own = existing(make_task, guest, name="Guest's own", **stored)
    client.force_login(guest)
    response = client.post(change_url(shared), admin_form(shared, **ADMIN_POSTED[kind]))
    html = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert 'id="overlap-warning"' in html, kind
    assert own.pk in listed(html, "duplicate") + listed(html, "same-minute")
    assert "Secret plan" not in html and f"#{hidden.pk})" not in html
    assert f"/{hidden.pk}/" not in html and 'data-hidden="1"' in html
    assert ScheduledTask.objects.get(pk=shared.pk).schedule_type == "cron"

"""The task page's form: the fields of the task's schedule type (script in the browser tests)."""

from __future__ import annotations

import json
import re

from django.urls import reverse

from scheduler_app.admin.columns import FIELDS_BY_TYPE, TYPE_FIELDS
from scheduler_app.models import ScheduleType

MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


def page(client, task) -> str:
    return client.get(
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    ).content.decode()


def rows(html: str) -> set[str]:
    return set(re.findall(r'class="form-row[^"]*\bfield-(\w+)', html))


def test_every_schedule_type_names_its_fields_and_only_known_ones():
    assert set(FIELDS_BY_TYPE) == set(ScheduleType.values)
    assert {f for fields in FIELDS_BY_TYPE.values() for f in fields} == set(TYPE_FIELDS)


def test_a_read_only_page_shows_only_the_fields_of_the_task_s_schedule_type(
    client, make_user, make_task
):
    cron = make_task(name="Cron", cron="0 6 * * *")
    every = make_task(name="Every", schedule_type="recurring", cron=None, interval=(2, "hours"))
    client.force_login(make_user("scheduler_app.SA_SCHEDULER_VIEW", is_staff=True))
    shown = rows(page(client, cron)) & set(TYPE_FIELDS)
    assert shown == {"cron_expression"}
    shown = rows(page(client, every)) & set(TYPE_FIELDS)
    assert shown == {"interval_every", "interval_unit", "run_at"}


def test_an_editable_page_keeps_every_field_for_browsers_without_the_script(
    client, make_user, make_task
):
    owner = make_user(*MODULE_PERMS, is_staff=True)
    task = make_task(name="Cron", user=owner, cron="0 6 * * *")
    client.force_login(owner)
    html = page(client, task)
    assert set(TYPE_FIELDS) <= rows(html)
    mapping = re.search(
        r'<script id="sched-fields-by-type" type="application/json">(.*?)</script>', html
    )
    assert json.loads(mapping[1]) == {k: list(v) for k, v in FIELDS_BY_TYPE.items()}
    assert "scheduler_app/task_form.js" in html

"""One “Schedule a task” button on the task list, leading to a chooser of task types."""

from __future__ import annotations

import re

from django.urls import reverse

CHANGELIST = reverse("admin:scheduler_app_scheduledtask_changelist")
CHOOSER = reverse("admin:scheduler_app_scheduledtask_add")


def test_the_list_has_one_schedule_button_leading_to_the_chooser(client, make_user):
    user = make_user(
        "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS", is_staff=True, username="rep"
    )
    client.force_login(user)
    html = client.get(CHANGELIST).content.decode()
    tools = re.search(r'<ul class="object-tools">(.*?)</ul>', html, re.S)[1]
    assert tools.count("<li>") == 2  # the dashboard and "Schedule a task"
    assert f'href="{CHOOSER}" class="addlink" id="schedule-a-task">Schedule a task<' in html

    chooser = client.get(CHOOSER)
    assert chooser.status_code == 200
    page = chooser.content.decode()
    # Only the reports types, each linking to its form.
    assert re.findall(r'data-module="(\w+)"', page) == ["reports"]
    for key in ("email_report", "export_report", "generate_report"):
        assert f'href="{reverse("scheduler_app:new", args=["reports", key])}"' in page
    assert "Write the report as CSV" in page  # the task type's description


def test_a_user_who_may_schedule_nothing_gets_no_button_and_no_chooser(client, make_user):
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", is_staff=True, username="viewer")
    client.force_login(viewer)
    html = client.get(CHANGELIST).content.decode()
    assert "Schedule a task" not in html
    assert client.get(CHOOSER).status_code == 403


def test_the_task_page_offers_no_save_and_add_another(client, make_user, make_task):
    root = make_user(is_staff=True, is_superuser=True, username="root")
    task = make_task(name="t")
    client.force_login(root)
    html = client.get(
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    ).content.decode()
    assert 'name="_addanother"' not in html

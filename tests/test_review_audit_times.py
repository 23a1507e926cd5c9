"""Review probe: a changed time in the audit trail reads in the one format, with its zone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from scheduler_app import services
from scheduler_app.models import TaskAuditEvent
from scheduler_app.presentation import display


@pytest.fixture
def root(make_user):
    return make_user(is_staff=True, is_superuser=True)


def test_a_changed_run_time_shows_in_the_one_format_on_the_task_page_and_the_event_list(
    client, root
):
    first = dt.datetime(2031, 6, 1, 10, 0, tzinfo=dt.UTC)
    second = dt.datetime(2031, 6, 2, 10, 30, tzinfo=dt.UTC)
    task = services.schedule(
        user=root,
        module="testmod",
        task_type="record",
        schedule_type="one_time",
        run_at=first,
        timezone="Europe/Berlin",
        config={},
    )
    services.update(task, user=root, run_at=second)
    task.refresh_from_db()
    client.force_login(root)
    pages = [
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]),
        reverse("admin:scheduler_app_taskauditevent_changelist"),
    ]
    event = TaskAuditEvent.objects.filter(action="edited").get()
    assert "run_at" in event.changes
    for url in pages:
        # The <time datetime="..."> attributes are machine-readable; the text is for people.
        html = re.sub(r'datetime="[^"]*"', "", client.get(url).content.decode())
        assert "2031-06-02T10:30:00" not in html, url
        assert "2031-06-01T10:00:00" not in html, url
    task_page = client.get(pages[0]).content.decode()
    assert display.format_when(second, task) in task_page  # "Mon, 2031-06-02 12:30 CEST"

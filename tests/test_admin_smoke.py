"""The admin smoke walk (tests/admin_smoke.py) in the demo project, as a superuser and as a
view-only user; tests/test_packaging.py runs the same walk in a fresh Quick-start project."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.utils import timezone

from tests.admin_smoke import admin_smoke, links_of


def test_links_of_keeps_site_links_once_and_skips_state_changing_ones():
    html = (
        '<a href="/admin/x/">x</a><a href="/admin/x/">again</a><a href="https://e.com/">out</a>'
        '<a href="/admin/logout/">o</a><a href="/admin/t/1/delete/">d</a><a href="/a/?q=1&amp;p=2">q</a>'
    )
    assert links_of(html) == ["/admin/x/", "/a/?q=1&p=2"]


def test_every_admin_page_of_the_scheduler_and_its_links_open(client, make_user, make_task):
    root = make_user(is_staff=True, is_superuser=True, username="root")
    due = timezone.now() - dt.timedelta(minutes=1)
    task = make_task(name="Walked", owner=root, cron="0 7 * * 1", timezone="Europe/Berlin", due=due)
    call_command("runscheduler", task_ids=[task.pk], workers=0, verbosity=0)
    client.force_login(root)
    pages = admin_smoke(client, task)
    assert len(pages) > 20, pages
    assert any("/logs/" in url for url in pages), "the run's page was not linked"


def test_a_view_only_user_walks_the_same_pages(client, make_user, make_task):
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", is_staff=True, username="viewer")
    task = make_task(name="Seen")
    client.force_login(viewer)
    assert admin_smoke(client, task)

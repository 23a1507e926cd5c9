"""The scheduling pages outside the admin belong to it: the admin's header and user bar,
breadcrumbs from Home, linked from the admin, task names as links, Run now, a styled 403."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from scheduler_app import services
from scheduler_app.models import ScheduledTask

REPORTS_USER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")
TODO_USER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TODO")
PAGES = {
    "reports": "/reports/schedules/",
    "crm": "/crm/schedules/",
    "todo": "/todo/schedules/",
    "notifications": "/notifications/",
    "feed": "/scheduler/feed/",
}


def schedule_report(user, name="Nightly users"):
    from project.reports.models import Report

    report = Report.objects.create(name=f"Users of {name}", source="users")
    return services.schedule(
        user=user,
        module="reports",
        task_type="generate_report",
        config={"report": report.pk},
        schedule_type="cron",
        cron="0 2 * * *",
        timezone="Europe/Berlin",
        name=name,
    )


def breadcrumbs(html: str) -> list[str]:
    trail = re.search(r'<ol class="breadcrumbs">(.*?)</ol>', html, re.S)[1]
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li[^>]*>(.*?)</li>", trail, re.S)
    ]


@pytest.mark.parametrize("staff", [True, False], ids=["staff", "not staff"])
@pytest.mark.parametrize("page", ["reports", "notifications", "feed"])
def test_every_page_has_the_admin_header_user_bar_and_a_trail_from_home(
    client, make_user, page, staff
):
    user = make_user(*REPORTS_USER, is_staff=staff, username="rep")
    client.force_login(user)
    response = client.get(PAGES[page])
    assert response.status_code == 200, page
    html = response.content.decode()
    assert 'id="user-tools"' in html and "rep</strong>" in html
    logout = reverse("admin:logout") if staff else reverse("scheduler_app:logout")
    assert f'<form id="logout-form" method="post" action="{logout}">' in html
    trail = breadcrumbs(html)
    assert trail[0] == "Home" and len(trail) >= 2
    home = re.search(r'<ol class="breadcrumbs">\s*<li><a href="([^"]+)"', html)[1]
    assert home == (reverse("admin:index") if staff else reverse("scheduler_app:pages"))


def test_the_module_page_links_task_names_and_offers_run_now(client, make_user):
    owner = make_user(*REPORTS_USER, is_staff=True, username="rep")
    task = schedule_report(owner)
    client.force_login(owner)
    html = client.get(PAGES["reports"]).content.decode()
    change = reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    assert f'<a href="{change}">Nightly users</a>' in html
    run = reverse("scheduler_app:run_now", args=[task.pk])
    assert f'action="{run}"' in html

    response = client.post(run, {"next": PAGES["reports"]}, follow=True)
    assert response.redirect_chain[-1][0] == PAGES["reports"]
    assert any(
        "will run on the next scheduler pass" in str(m) for m in get_messages(response.wsgi_request)
    )
    task.refresh_from_db()
    assert task.next_run <= timezone.now() and task.run_requested


def test_a_module_user_who_may_only_view_gets_no_run_now(client, make_user):
    task = schedule_report(make_user(*REPORTS_USER, username="owner"))
    viewer = make_user("scheduler_app.SA_REPORTS", is_staff=True, username="viewer")
    client.force_login(viewer)
    html = client.get(PAGES["reports"]).content.decode()
    assert 'data-action="run_now"' not in html
    response = client.post(reverse("scheduler_app:run_now", args=[task.pk]))
    assert response.status_code == 403
    assert "You may not run this task" in response.content.decode()
    assert ScheduledTask.objects.get(pk=task.pk).run_requested is False


def test_the_todo_module_has_its_page(client, make_user):
    lead = make_user(*TODO_USER, is_staff=True, username="lead")
    client.force_login(lead)
    html = client.get(PAGES["todo"]).content.decode()
    assert "Todo schedules" in html
    assert "Schedule: Team digest" in html
    assert breadcrumbs(html) == ["Home", "Todo", "Todo schedules"]


def test_a_403_is_a_styled_page_that_says_why(client, make_user):
    client.force_login(make_user(*REPORTS_USER, is_staff=True, username="rep"))
    response = client.get(PAGES["crm"])
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not use the CRM module." in html
    assert 'id="user-tools"' in html and 'id="header"' in html
    assert breadcrumbs(html)[0] == "Home"


def test_the_admin_links_the_pages_a_user_may_open_and_only_those(client, make_user):
    client.force_login(make_user(*REPORTS_USER, is_staff=True, username="rep"))
    for url in (
        reverse("admin:index"),
        reverse("admin:app_list", args=["scheduler_app"]),
        reverse("admin:scheduler_app_scheduledtask_dashboard"),
        reverse("scheduler_app:pages"),
    ):
        html = client.get(url).content.decode()
        box = re.search(r'id="scheduling-pages">(.*?)</div>', html, re.S)
        assert box, url
        links = re.findall(r'href="([^"]+)"', box[1])
        assert links == [PAGES["reports"], PAGES["notifications"], PAGES["feed"]], url


def test_view_site_leads_to_the_scheduling_pages(client, make_user):
    client.force_login(make_user(*REPORTS_USER, is_staff=True))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("scheduler_app:pages")
    assert response.status_code == 200


def test_a_user_who_is_not_staff_can_log_out_from_a_scheduling_page(client, make_user):
    client.force_login(make_user(*REPORTS_USER, is_staff=False))
    response = client.post(reverse("scheduler_app:logout"))
    assert response.status_code in (200, 302)
    assert client.get(PAGES["reports"]).status_code == 302  # signed out: to the login page

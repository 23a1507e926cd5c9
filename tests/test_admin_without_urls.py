"""A project that routes only the admin (no ``scheduler_app.urls``): every admin page of the
scheduler opens, the links it cannot make are left out, and check W003 names the line to add."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib import admin
from django.core import checks
from django.test import override_settings
from django.urls import path, reverse
from django.utils import timezone

from scheduler_app.checks.routing import URLS_LINE, check_scheduler_urls
from scheduler_app.models import RunStatus, TaskExecutionLog

# This module is the URLconf of the tests below: the admin and nothing else.
urlpatterns = [path("admin/", admin.site.urls)]

ADMIN_ONLY = override_settings(ROOT_URLCONF=__name__)


@pytest.fixture
def root_client(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True, username="root"))
    return client


@ADMIN_ONLY
def test_every_scheduler_admin_page_opens_without_the_scheduling_urls(root_client, make_task):
    task = make_task(name="Nightly", cron="0 3 * * *")
    started = timezone.now() - dt.timedelta(minutes=5)
    log = TaskExecutionLog.objects.create(
        task=task,
        run_id=uuid.uuid4().hex,
        scheduled_for=started,
        started_at=started,
        status=RunStatus.RUNNING,
    )
    pages = [
        reverse("admin:index"),
        reverse("admin:app_list", args=["scheduler_app"]),
        reverse("admin:scheduler_app_scheduledtask_changelist"),
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]),
        reverse("admin:scheduler_app_scheduledtask_dashboard"),
        reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk]),
    ]
    for url in pages:
        response = root_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "/scheduler/" not in html, url
    assert "Schedule a task" not in root_client.get(pages[2]).content.decode()
    assert root_client.get(reverse("admin:scheduler_app_scheduledtask_add")).status_code == 403
    change = root_client.get(pages[3]).content.decode()
    assert "Module form" not in change
    assert 'data-action="stop_run"' not in change


@ADMIN_ONLY
def test_check_w003_names_the_line_to_add_when_the_admin_has_no_scheduling_urls():
    messages = check_scheduler_urls()
    assert [m.id for m in messages] == ["scheduler_app.W003"]
    assert messages[0].level == checks.WARNING
    assert URLS_LINE in messages[0].hint
    assert URLS_LINE == 'path("scheduler/", include("scheduler_app.urls")),'


def test_check_w003_is_quiet_when_the_urls_are_included():
    assert check_scheduler_urls() == []
    registered = checks.registry.registry.get_checks(include_deployment_checks=False)
    assert check_scheduler_urls in registered

"""Every time the app shows is in one format, in the task's own zone, labelled with the zone."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from project.reports.models import Report
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import display
from tests.conftest import grant

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)  # a Monday, 12:00 in Berlin
#: The next run of "30 7 * * 1" in Europe/Berlin after NOW, as every page must show it.
EXPECTED = "Mon, 2026-06-08 07:30 CEST"
ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
SHOWN = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) (\S+)$")


def test_format_when_labels_the_zone_by_its_abbreviation_or_else_its_name():
    summer = dt.datetime(2026, 7, 1, 5, 30, tzinfo=dt.UTC)
    winter = dt.datetime(2026, 1, 5, 5, 30, tzinfo=dt.UTC)
    assert display.format_when(summer, "Europe/Berlin") == "Wed, 2026-07-01 07:30 CEST"
    assert display.format_when(winter, "Europe/Berlin") == "Mon, 2026-01-05 06:30 CET"
    assert display.format_when(winter, "UTC") == "Mon, 2026-01-05 05:30 UTC"
    # São Paulo has no abbreviation ("-03"): the zone's name says which one it is.
    assert display.format_when(winter, "America/Sao_Paulo") == (
        "Mon, 2026-01-05 02:30 America/Sao_Paulo"
    )
    assert display.format_when(None, "UTC") == "—"
    assert display.format_when(winter, "Not/AZone") == "Mon, 2026-01-05 05:30 UTC"


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    when=st.datetimes(
        min_value=dt.datetime(1990, 1, 1),
        max_value=dt.datetime(2090, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    zone=st.sampled_from(ZONES),
)
def test_format_when_is_the_local_wall_time_with_a_label_that_names_the_zone(when, zone):
    shown = display.format_when(when, zone)
    match = SHOWN.match(shown)
    assert match, shown
    local = when.astimezone(zoneinfo.ZoneInfo(zone))
    assert match[1] == local.strftime("%a")
    assert match[2] == local.strftime("%Y-%m-%d %H:%M")
    # The abbreviation when it has letters ("CEST"), else the zone's own name.
    abbreviation = local.tzname() or ""
    assert match[3] == (abbreviation if abbreviation[:1].isalpha() else zone)


@pytest.fixture
def reporter(make_user):
    user = make_user(is_staff=True, username="reporter")
    grant(user, "scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")
    return user


@pytest.mark.parametrize("site_zone", ["UTC", "America/New_York"])
def test_one_run_reads_the_same_on_every_page_message_and_command(
    client, reporter, make_user, settings, site_zone
):
    """The save message, the list, the task page, the dashboard, the module page and
    scheduler_list all show the next run in the task's zone, labelled, whatever TIME_ZONE is."""
    settings.TIME_ZONE = site_zone
    report = Report.objects.create(name="All users", source="users")
    client.force_login(reporter)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("scheduler_app:new", args=["reports", "generate_report"]),
            {
                "name": "Weekly users",
                "schedule_type": "cron",
                "cron": "30 7 * * 1",
                "timezone": "Europe/Berlin",
                "priority": "5",
                "config-report": str(report.pk),
            },
            follow=True,
        )
        saved = [str(m) for m in get_messages(response.wsgi_request)]
        assert any(EXPECTED in m for m in saved), saved
        task = ScheduledTask.objects.get(name="Weekly users")
        pages = {
            "list": reverse("admin:scheduler_app_scheduledtask_changelist"),
            "task page": reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]),
            "dashboard": reverse("admin:scheduler_app_scheduledtask_dashboard"),
            "module page": reverse("reports:schedules"),
        }
        for name, url in pages.items():
            html = client.get(url).content.decode()
            assert EXPECTED in re.sub(r"<[^>]+>", "", html), name
            assert 'title="Europe/Berlin"' in html, name
        out = io.StringIO()
        call_command("scheduler_list", stdout=out)
        assert EXPECTED in out.getvalue()

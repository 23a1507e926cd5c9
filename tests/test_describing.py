"""Configuration and results read as the config form shows them, and a task type may say more."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django import forms
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from project.crm.models import Meeting
from project.reports.forms import EmailReportForm
from project.reports.models import Report
from scheduler_app import services
from scheduler_app.describing import EMPTY, describe_config, describe_value
from scheduler_app.models import ScheduledTask

REPORTS_USER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")


class Every(forms.Form):
    flavour = forms.ChoiceField(choices=[("a", "Apple"), ("Citrus", [("l", "Lemon")])])
    flavours = forms.MultipleChoiceField(choices=[("a", "Apple"), ("b", "Banana")])
    loud = forms.BooleanField(required=False, label="Say it loud")
    report = forms.ModelChoiceField(queryset=Report.objects.all())
    reports = forms.ModelMultipleChoiceField(queryset=Report.objects.all())
    days_left = forms.IntegerField()


@pytest.mark.django_db
def test_each_kind_of_field_reads_as_the_form_shows_it():
    sales = Report.objects.create(name="Sales", source="users")
    config = {
        "flavour": "l",
        "flavours": ["b", "a"],
        "loud": False,
        "report": sales.pk,
        "reports": [sales.pk, 999],
        "days_left": None,
        "extra_key": {"x": 1},
    }
    assert describe_config(Every, config) == [
        ("Flavour", "Lemon"),
        ("Flavours", ["Banana", "Apple"]),
        ("Say it loud", "No"),
        ("Report", "Sales"),
        ("Reports", ["Sales", "#999 (no longer exists)"]),
        ("Days left", EMPTY),
        ("Extra key", '{"x": 1}'),
    ]
    assert describe_value([]) == EMPTY


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(config=st.dictionaries(st.sampled_from(["report", "recipients", "subject", "other"]), JSON))
def test_any_stored_config_is_described_without_an_error_and_with_the_form_s_labels(config):
    rows = describe_config(EmailReportForm, config)
    labels = {
        "report": "Report",
        "recipients": "Recipients",
        "subject": "Subject",
        "other": "Other",
    }
    assert [label for label, _value in rows] == [
        labels[k] for k in ["report", "recipients", "subject", "other"] if k in config
    ]
    for _label, value in rows:
        assert isinstance(value, str) or all(isinstance(item, str) for item in value)


@pytest.fixture
def reporter(make_user):
    return make_user(*REPORTS_USER, is_staff=True, username="rep", email="rep@example.com")


def test_the_task_page_and_the_run_page_show_names_and_lists(client, reporter, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    sales = Report.objects.create(name="Sales figures", source="users")
    task = services.schedule(
        user=reporter,
        module="reports",
        task_type="email_report",
        config={"report": sales.pk, "recipients": "a@example.com, b@example.com"},
        schedule_type="cron",
        cron="0 6 * * *",
    )
    ScheduledTask.objects.filter(pk=task.pk).update(
        next_run=timezone.now() - dt.timedelta(minutes=1)
    )
    call_command("runscheduler", task_ids=[task.pk], verbosity=0)
    client.force_login(reporter)
    page = client.get(
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    ).content.decode()
    config = re.search(r'<table class="sched-config">(.*?)</table>', page, re.S)[1]
    assert "<th>Report</th><td>Sales figures</td>" in config
    assert (
        "<th>Recipients</th><td><ul><li>a@example.com</li><li>b@example.com</li></ul></td>"
        in config
    )
    assert "['" not in config and "None" not in config

    log = task.logs.get()
    run = client.get(
        reverse("admin:scheduler_app_scheduledtask_log", args=[task.pk, log.pk])
    ).content.decode()
    result = re.search(r'<div class="sched-result">(.*?)</div>', run, re.S)[1]
    assert "<th>Report</th><td>Sales figures</td>" in result
    assert f"&quot;report&quot;: {sales.pk}" in run  # the raw JSON stays, folded away


def test_a_task_type_can_describe_its_result_itself(make_user):
    from project.crm.scheduler_tasks import MeetingReminder

    kick_off = Meeting.objects.create(title="Kick-off", starts_at=timezone.now())
    rows = MeetingReminder().describe_result({"meetings": [kick_off.pk, 404]})
    assert rows == [("Meetings", ["Kick-off", "#404 (deleted)"])]

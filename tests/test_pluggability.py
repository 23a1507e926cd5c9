"""A module plugs in without any change in scheduler_app: tests/testapp is such a fourth module."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

import scheduler_app
from scheduler_app import SchedulableTask, TaskProvider, TaskResult, policy, services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.policy import permissions
from scheduler_app.registry import registry
from tests.testapp.models import Execution

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
APP_DIR = Path(scheduler_app.__file__).parent


pytestmark = pytest.mark.usefixtures("inline")


def test_scheduler_app_never_names_the_modules_that_use_it():
    imports = re.compile(r"^\s*(from|import)\s+(project|tests)\b", re.MULTILINE)
    for path in [*APP_DIR.rglob("*.py"), *APP_DIR.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert not imports.search(text), f"{path} imports a module that uses scheduler_app"
        assert "testmod" not in text and "testapp" not in text, f"{path} names the test module"


def test_the_test_module_is_discovered_from_its_own_scheduler_tasks():
    provider = registry.get("testmod")
    assert provider.__module__ == "tests.testapp.scheduler_tasks"
    assert {"record", "record_payload", "when_go"} <= set(provider.task_types)
    for module_id, app in (
        ("crm", "project.crm"),
        ("todo", "project.todo"),
        ("reports", "project.reports"),
    ):
        assert registry.get(module_id).__module__ == f"{app}.scheduler_tasks"


def test_its_permissions_exist_and_gate_scheduling(db, make_user):
    assert (
        Permission.objects.filter(
            content_type__app_label="scheduler_app", codename__in=["SA_TESTMOD", "SA_TESTMOD_ADMIN"]
        ).count()
        == 2
    )
    assert policy.can_schedule(make_user(*PERMS), "testmod", "record")
    assert not policy.can_schedule(make_user("scheduler_app.SA_SCHEDULER"), "testmod", "record")


@pytest.mark.django_db(transaction=True)
def test_its_tasks_are_scheduled_through_the_page_and_run_by_the_engine(client, make_user):
    user = make_user(*PERMS)
    client.force_login(user)
    url = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})
    response = client.post(
        url,
        {
            "name": "Fourth module",
            "schedule_type": "cron",
            "cron": "*/5 * * * *",
            "run_at": "",
            "interval_every": "",
            "interval_unit": "hours",
            "event": "",
            "timezone": "UTC",
            "priority": "5",
            "max_retries": "1",
            "timeout": "60",
            "tags": "",
            "config-note": "plugged",
            "config-sleep": "",
        },
    )
    assert response.status_code == 302
    task = ScheduledTask.objects.get(module_id="testmod")
    assert policy.viewable_queryset(user).filter(pk=task.pk).exists()

    past = timezone.now() - dt.timedelta(minutes=1)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)
    run_pass(PassOptions())

    assert list(Execution.objects.values_list("task_id", "note")) == [(task.pk, "plugged")]
    assert TaskExecutionLog.objects.get(task=task).status == RunStatus.SUCCESS


class GreetForm(forms.Form):
    greeting = forms.CharField(max_length=40)


class Greet(SchedulableTask):
    name = "Greet"
    config_form = GreetForm

    def execute(self, context):
        Execution.objects.create(task_id=context.task_id, note=context.config["greeting"])
        return TaskResult.success(context.config["greeting"])


class LateProvider(TaskProvider):
    module_id = "late"
    base_permission = "SA_LATE"
    task_types = {"greet": Greet}  # noqa: RUF012


@pytest.fixture
def late_module():
    registry.register(LateProvider)
    yield LateProvider
    registry.unregister("late")


@pytest.mark.django_db(transaction=True)
def test_a_module_registered_at_run_time_gets_permissions_and_runs(late_module, make_user):
    permissions.sync_permissions()
    user = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_LATE")
    task = services.schedule(
        user=user,
        module="late",
        task_type="greet",
        config={"greeting": "hi"},
        schedule_type="one_time",
        run_at=timezone.now() + dt.timedelta(hours=1),
    )
    services.run_now(task, user=user)
    run_pass(PassOptions())
    assert list(Execution.objects.values_list("note", flat=True)) == ["hi"]
    task.refresh_from_db()
    assert task.status == "success"

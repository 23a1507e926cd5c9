"""What a one-shot ``runscheduler`` process loads and spends before and after its pass.

A crontab pass starts a whole Python process each minute: it must not import the
HTTP API's views, the pages, or the admin's page helpers it never uses, and it
must not spend its exit collecting garbage the operating system frees anyway.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from scheduler_app.management.commands.runscheduler import Command
from scheduler_app.models import TaskExecutionLog
from tests.engine_processes import fresh_python, scheduler_env

#: Modules a pass has no use for: what only serves HTTP requests (the API's views and
#: schema, the pages, the admin's dashboard and history) and the optional libraries
#: that only some task types or pages use.
NEVER_IN_A_PASS = (
    "rest_framework.views",
    "rest_framework.serializers",
    "rest_framework.request",
    "drf_spectacular",
    "scheduler_app.api.views",
    "scheduler_app.api.serializers",
    "scheduler_app.api.urls",
    "scheduler_app.api.schema",
    "scheduler_app.views",
    "scheduler_app.urls",
    "scheduler_app.forms",
    "scheduler_app.templatetags",
    "scheduler_app.presentation.overlap_warning",
    "scheduler_app.admin.dashboard",
    "scheduler_app.admin.history",
    "scheduler_app.admin.chooser",
    "scheduler_app.monitoring.charts",
    "scheduler_app.monitoring.metrics",
    "django.contrib.admin.views.main",
    "project.urls",
    "icalendar",
    "cron_descriptor",
    "requests",
    "rich",
)

DUMP_MODULES = """
import json, sys
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "runscheduler", "-v0", "--workers", "1"])
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.django_db(transaction=True)
def test_a_one_shot_pass_does_not_import_what_only_requests_use(make_task):
    task = make_task(
        "noop",
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(days=1),
        due=timezone.now() - dt.timedelta(seconds=5),
    )
    env = scheduler_env(LOCK_PREFIX=f"scheduler:test:{uuid.uuid4().hex}:")
    loaded = json.loads(fresh_python(DUMP_MODULES, env)[-1])
    # The pass did run the task: what it imported is what a pass needs.
    assert TaskExecutionLog.objects.filter(task=task, status="success").count() == 1
    assert "scheduler_app.engine.passes" in loaded
    unwanted = [
        name
        for name in loaded
        if any(name == prefix or name.startswith(prefix + ".") for prefix in NEVER_IN_A_PASS)
    ]
    assert unwanted == []


@pytest.fixture
def unfreeze():
    yield
    gc.unfreeze()


@pytest.mark.django_db(transaction=True)
def test_the_command_line_process_freezes_its_start_up_objects_and_code_callers_are_left_alone(
    unfreeze,
):
    gc.unfreeze()
    call_command("runscheduler", verbosity=0, workers=0)
    # Called from code (a test, another command): the process is not the command's.
    assert gc.get_freeze_count() == 0
    Command().run_from_argv(["manage.py", "runscheduler", "-v0", "--workers", "0"])
    assert gc.get_freeze_count() > 0

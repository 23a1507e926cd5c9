"""What every process of a site imports at start-up, and what it leaves for the first use.

A crontab ``runscheduler`` is a new process every minute: ``django.setup()`` and the
command module must not import the use cases, the outbound guard, the HTTP client, the
live progress or the admin's per-request helpers. What start-up is for still happens:
the admin is registered, the system checks, the signal receivers and the pass hooks are
wired. Checked in a fresh interpreter (this one has imported everything).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.engine_processes import fresh_python

#: Loaded on first use, never by start-up (each name is one assertion).
LAZY = (
    # services/__init__.py: the use cases behind ``services.X``
    "scheduler_app.services.approvals",
    "scheduler_app.services.control",
    "scheduler_app.services.duplicates",
    "scheduler_app.services.emitting",
    "scheduler_app.services.locks",
    "scheduler_app.services.reading",
    "scheduler_app.services.scheduling",
    "scheduler_app.services.sharing",
    "scheduler_app.services.steps",
    "scheduler_app.services.updating",
    "scheduler_app.services.validation",
    "scheduler_app.services.workflows",
    # the admin's per-request imports
    "scheduler_app.services.inbound_hooks",
    "scheduler_app.services.chains",
    "scheduler_app.services.feeds",
    "scheduler_app.monitoring.workflow_graph",
    "scheduler_app.admin.workflow_forms",
    # outbound requests: the HTTP task's client, alert webhooks
    "scheduler_app.outbound",
    "scheduler_app.contrib.http.client",
    "scheduler_app.monitoring.alerts.senders",
    # alerts: raised and sent on use
    "scheduler_app.monitoring.alerts.outbox",
    "scheduler_app.monitoring.watchdog",
    # runscheduler's live progress: a terminal or a --loop only
    "scheduler_app.management.live_progress",
    "scheduler_app.services.live",
    "rich",
)

START_UP = """
import json, sys, weakref

import django

django.setup()
from scheduler_app.management.commands import runscheduler  # noqa: F401

from django.contrib import admin
from django.core import checks
from django.db.models.signals import post_migrate

from scheduler_app.engine import hooks
from scheduler_app.models import Approval, InboundHook, ScheduledTask, WorkflowRun


def live(receiver):
    return receiver() if isinstance(receiver, weakref.ReferenceType) else receiver


print(json.dumps({
    "modules": sorted(sys.modules),
    "admin": [m._meta.label for m in (ScheduledTask, Approval, InboundHook, WorkflowRun)
              if admin.site.is_registered(m)],
    "checks": sorted({c.__module__ for c in checks.registry.registry.get_checks()
                      if c.__module__.startswith("scheduler_app")}),
    "post_migrate": sorted({getattr(live(entry[1]), "__module__", "")
                            for entry in post_migrate.receivers}),
    "after_pass": [f"{h.__module__}.{h.__name__}" for h in hooks.after_pass],
    "slot_filters": [f"{h.__module__}.{h.__name__}" for h in hooks.slot_filters],
}))

# A process that sends an alert by e-mail loads the channels, not the outbound guard.
from scheduler_app.monitoring.alerts import senders  # noqa: E402, F401

print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def start_up() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    *_, facts, with_senders = fresh_python(START_UP, env)
    return {**json.loads(facts), "with_senders": json.loads(with_senders)}


@pytest.mark.parametrize("name", LAZY)
def test_start_up_does_not_import(start_up, name):
    loaded = [m for m in start_up["modules"] if m == name or m.startswith(name + ".")]
    assert loaded == [], f"{name} is imported at start-up"


def test_the_alert_channels_import_the_outbound_guard_only_to_post_a_webhook(start_up):
    assert "scheduler_app.monitoring.alerts.senders" in start_up["with_senders"]
    assert "scheduler_app.outbound" not in start_up["with_senders"]


def test_the_services_package_is_imported_but_not_its_use_cases(start_up):
    assert "scheduler_app.services" in start_up["modules"]
    assert "scheduler_app.management.commands.runscheduler" in start_up["modules"]


def test_start_up_still_registers_the_admin_checks_receivers_and_pass_hooks(start_up):
    assert start_up["admin"] == [
        "scheduler_app.ScheduledTask",
        "scheduler_app.Approval",
        "scheduler_app.InboundHook",
        "scheduler_app.WorkflowRun",
    ]
    assert "scheduler_app.checks.settings" in start_up["checks"]
    assert "scheduler_app.services.system_tasks" in start_up["post_migrate"]
    assert "scheduler_app.monitoring.alerts.triggers.after_pass" in start_up["after_pass"]
    assert "scheduler_app.services.pause_windows.blocked_slots" in start_up["slot_filters"]


def test_names_load_on_first_use_as_before():
    # In this process: ``from scheduler_app.services import X`` and ``services.X`` give the
    # use case's own function, and ``dir()`` lists the names.
    from scheduler_app import services
    from scheduler_app.services import approvals, approve, updating, validate_update

    assert approve is approvals.approve is services.approve
    assert validate_update is updating.validate_update
    assert set(services.__all__) <= set(dir(services))
    with pytest.raises(AttributeError, match="no_such_use_case"):
        services.no_such_use_case  # noqa: B018


def test_the_name_list_and_the_source_map_agree():
    # __all__ must stay a literal for the linters; the map says where each name lives.
    import importlib

    from scheduler_app import services

    assert sorted(services.__all__) == sorted(services._MODULE_OF)
    for name, module in services._MODULE_OF.items():
        source = importlib.import_module(f"scheduler_app.services.{module}")
        assert getattr(services, name) is getattr(source, name), name

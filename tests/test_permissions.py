"""The permission catalogue: SA_* permissions exist as Django permissions after migrate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, policy, services
from scheduler_app.policy import permissions


class Noop(SchedulableTask):
    name = "No-op"

    def execute(self, context):  # noqa: ANN001, ANN201
        return TaskResult.success()


class BorrowingProvider(TaskProvider):
    """Uses an existing permission of another app as its base permission."""

    module_id = "borrowing"
    name = "Borrowing"
    base_permission = "auth.view_group"
    task_types = {"noop": Noop}


class CustomAdminProvider(TaskProvider):
    module_id = "custom"
    name = "Custom"
    base_permission = "SA_CUSTOM"
    admin_permission = "SA_CUSTOM_BOSS"
    task_types = {"noop": Noop}


@pytest.fixture
def provider(db, register_provider):
    def add(cls):  # noqa: ANN001, ANN202
        register_provider(cls)
        permissions.sync_permissions()
        return cls

    return add


def names(*codenames: str) -> dict[str, str]:
    return dict(
        Permission.objects.filter(
            content_type__app_label="scheduler_app", codename__in=codenames
        ).values_list("codename", "name")
    )


def test_scheduler_permissions_exist_with_readable_names(db):
    assert names("SA_SCHEDULER", "SA_SCHEDULER_VIEW", "SA_SCHEDULER_ADMIN") == {
        "SA_SCHEDULER": "Scheduler: may schedule tasks",
        "SA_SCHEDULER_VIEW": "Scheduler: may view all tasks",
        "SA_SCHEDULER_ADMIN": "Scheduler: administers all tasks of all modules",
    }


def test_migrate_creates_each_providers_base_and_admin_permission(db):
    # tests.testapp registers "testmod" with base_permission SA_TESTMOD.
    assert names("SA_TESTMOD", "SA_TESTMOD_ADMIN") == {
        "SA_TESTMOD": "Test module: may schedule and see Test module tasks",
        "SA_TESTMOD_ADMIN": "Test module: administers all Test module tasks",
    }
    assert policy.base_permission("testmod") == "scheduler_app.SA_TESTMOD"
    assert policy.admin_permission("testmod") == "scheduler_app.SA_TESTMOD_ADMIN"


def test_an_existing_permission_is_used_and_not_created(provider, make_user):
    provider(BorrowingProvider)
    assert not Permission.objects.filter(
        content_type__app_label="scheduler_app", codename__in=["view_group", "auth.view_group"]
    ).exists()
    assert names("SA_BORROWING_ADMIN") == {
        "SA_BORROWING_ADMIN": "Borrowing: administers all Borrowing tasks"
    }
    assert policy.base_permission("borrowing") == "auth.view_group"
    user = make_user(permissions.SCHEDULER, "auth.view_group")
    assert services.schedule(
        user=user, module="borrowing", task_type="noop", schedule_type="cron", cron="0 * * * *"
    )
    assert policy.is_module_admin(make_user("scheduler_app.SA_BORROWING_ADMIN"), "borrowing")


def test_an_explicit_admin_permission_is_created_under_its_name(provider, make_user):
    provider(CustomAdminProvider)
    assert set(names("SA_CUSTOM", "SA_CUSTOM_BOSS", "SA_CUSTOM_ADMIN")) == {
        "SA_CUSTOM",
        "SA_CUSTOM_BOSS",
    }
    assert policy.is_module_admin(make_user("scheduler_app.SA_CUSTOM_BOSS"), "custom")
    assert not policy.is_module_admin(make_user("scheduler_app.SA_CUSTOM"), "custom")


def test_sync_is_idempotent_and_follows_a_renamed_module(provider, monkeypatch):
    provider(CustomAdminProvider)
    permissions.sync_permissions()
    monkeypatch.setattr(CustomAdminProvider, "name", "Renamed")
    permissions.sync_permissions()
    assert Permission.objects.filter(codename="SA_CUSTOM").count() == 1
    assert names("SA_CUSTOM")["SA_CUSTOM"] == "Renamed: may schedule and see Renamed tasks"


def test_unknown_modules_have_no_permissions():
    assert policy.base_permission("nope") is None
    assert policy.admin_permission("nope") is None

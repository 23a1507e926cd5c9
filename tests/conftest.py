"""Shared fixtures. The database is SQLite by default, PostgreSQL with DATABASE_URL."""

from __future__ import annotations

import datetime as dt

import django
import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from scheduler_app import services
from scheduler_app.registry import registry
from tests.engine_processes import own_redis, procs  # noqa: F401 - fixtures of the process tests

# django-tasks-celery needs Django 6 (and Python 3.12+): the Django 5.2 run
# (requirements-django52.txt, Python 3.11) cannot install it, so the Celery tests are
# not collected there. On Django 6 they are, and fail if it is missing.
collect_ignore = ["test_handoff_celery.py"] if django.VERSION < (6, 0) else []


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return (
        f"database: {db['ENGINE']} {db.get('NAME')}; cache: {settings.CACHES['default']['BACKEND']}"
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: overlap locks must not leak between tests."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test ends in the default language: a request with Accept-Language activates its
    language for the thread (LocaleMiddleware) and would leave later tests in German."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def grant(user, *perms: str) -> None:
    """Give ``user`` permissions by full name (``scheduler_app.SA_SCHEDULER``)."""
    for perm in perms:
        app_label, codename = perm.split(".", 1)
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for cache in (
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
        "_scheduler_guardian_checker",
    ):
        user.__dict__.pop(cache, None)


@pytest.fixture
def make_user(db, django_user_model):
    counter = {"n": 0}

    def factory(*perms: str, **fields):
        counter["n"] += 1
        fields.setdefault("username", f"user{counter['n']}")
        user = django_user_model.objects.create_user(password="pw", **fields)
        grant(user, *perms)
        return django_user_model.objects.get(pk=user.pk)

    return factory


@pytest.fixture
def make_task(db):
    """Schedule a task as the system; defaults: a testmod.record task due a minute ago."""

    def factory(task_type: str = "record", *, due: dt.datetime | None = None, **kwargs):
        kwargs.setdefault("module", "testmod")
        kwargs.setdefault("schedule_type", "cron")
        kwargs.setdefault("cron", "* * * * *")
        kwargs.setdefault("config", {})
        task = services.schedule(user=kwargs.pop("user", None), task_type=task_type, **kwargs)
        if due is not None:
            type(task).objects.filter(pk=task.pk).update(next_run=due, occurrence_at=due)
            task.refresh_from_db()
        return task

    return factory


@pytest.fixture
def register_provider():
    """Register providers for one test: ``register_provider(MyProvider)``; gone after it."""
    added: list[str] = []

    def register(provider):  # noqa: ANN001, ANN202
        registry.register(provider, strict=True)
        added.append(provider.module_id)
        return provider

    yield register
    for module_id in reversed(added):
        registry.unregister(module_id)


@pytest.fixture
def inline(settings):
    """Task bodies run in the scheduler's own process; retries wait without jitter."""
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline", "RETRY_JITTER": 0}


@pytest.fixture
def mail_backend(settings):
    """Set the default mail backend for one test, as the site's Django version configures it."""

    def use(path: str) -> None:
        if hasattr(settings, "MAILERS"):  # Django 6.1: EMAIL_BACKEND is deprecated
            settings.MAILERS = {"default": {"BACKEND": path}}
        else:
            settings.EMAIL_BACKEND = path

    return use

"""Test settings: the demo project plus a test-only module (tests/testapp)."""

import importlib.util
import os

from project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if "MAILERS" in globals():  # Django 6.1
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# System tasks are synced by the tests that want them, not into every test database.
SCHEDULER = {**SCHEDULER, "WORKERS": 2, "SYSTEM_TASKS_ON_MIGRATE": False}  # noqa: F405

# The Tasks-framework hand-off is tested with a real worker backend: django-tasks-db.
INSTALLED_APPS += ["django_tasks_db"]
try:
    import django.tasks  # noqa: F401

    _TASKS_PACKAGE = "django.tasks"
except ImportError:  # Django 5.2 uses the django-tasks backport
    _TASKS_PACKAGE = "django_tasks"
    INSTALLED_APPS += ["django_tasks"]
TASKS = {
    "default": {"BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend"},
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    # A real worker fleet: RQ workers (manage.py rqworker) through django-tasks-rq.
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["scheduler"]},
}
INSTALLED_APPS += ["django_rq"]
# The RQ tests start a Redis server of their own and hand its URL down in RQ_REDIS_URL.
RQ_QUEUES = {
    "scheduler": {"URL": os.environ.get("RQ_REDIS_URL", "redis://127.0.0.1:6379/0")},
}

# Celery workers (celery -A project worker) through django-tasks-celery, which needs
# Django 6 and Python 3.12+: on Django 5.2 (requirements-django52.txt) it is not
# installed, and neither the backend nor Celery's settings are set up.
if importlib.util.find_spec("django_tasks_celery") is not None:
    TASKS["celery"] = {
        "BACKEND": "django_tasks_celery.CeleryBackend",
        "QUEUES": ["scheduler"],
        "OPTIONS": {"CELERY_APP": "project.celery.app"},
    }
    # The Celery tests start a Redis server of their own and hand its URL down.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    # Results (get_result) in the same Redis; the backend's checks want them extended.
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    CELERY_RESULT_EXTENDED = True

# pytest-xdist: each worker gets its own Redis database (REDIS_URL's number + the
# worker's), because the tests empty the cache (FLUSHDB) before each test. The
# scheduler processes a test starts inherit PYTEST_XDIST_WORKER, so they agree.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and REDIS_URL:  # noqa: F405
    from urllib.parse import urlsplit as _urlsplit

    _redis = _urlsplit(REDIS_URL)  # noqa: F405
    _db = int(_redis.path.strip("/") or 0) + int(_xdist_worker[2:])
    CACHES["default"]["LOCATION"] = _redis._replace(path=f"/{_db}").geturl()  # noqa: F405
